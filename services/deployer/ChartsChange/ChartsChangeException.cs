namespace Slipway.Deployer.ChartsChange;

/// <summary>
/// Proposing the charts change failed. <see cref="Permanent"/>: retrying cannot help (a refused name, a values file that is
/// not a mapping); otherwise (Gerrit unreachable, a push refused for a transient reason) the job is retried.
/// </summary>
public sealed class ChartsChangeException(string message, bool permanent = false, Exception? inner = null) : Exception(message, inner)
{
    public bool Permanent { get; } = permanent;
}
