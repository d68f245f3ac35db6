namespace Slipway.Publisher.Registry;

/// <summary>Publishing failed: the local image is missing, or the engine's push reported an error.</summary>
public sealed class PublishException(string message, Exception? inner = null) : Exception(message, inner);
