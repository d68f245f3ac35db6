namespace Slipway.Builder.Git;

/// <summary>
/// The revision could not be checked out: a refused input, a git command that failed or timed out, or a ref that no
/// longer leads to the revision. <see cref="Exception.Message"/> is one line for humans, free of credentials.
/// </summary>
public class GitCheckoutException(string message, Exception? inner = null) : Exception(message, inner);
