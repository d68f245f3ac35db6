using Slipway.Hosting;

namespace Slipway.Deployer.Backends.Docker;

/// <summary>Configuration section <c>Deployer:Docker</c>: how the embedded docker backend runs services.</summary>
public sealed partial class DockerBackendOptions : IValidatableOptions
{
    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial System.Text.RegularExpressions.Regex OwnerPattern();

    public const string Section = "Deployer:Docker";

    /// <summary>Host address ports are published on. 127.0.0.1 by default: nothing is exposed beyond the machine.</summary>
    public string HostIp { get; set; } = "127.0.0.1";

    /// <summary>Time between two readiness checks of a starting instance.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Time limit of one probe request.</summary>
    public TimeSpan ProbeRequestTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Grace period given to an old instance between SIGTERM and SIGKILL.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Lines of a failed instance's log quoted in the failure reason.</summary>
    public int LogTailLines { get; set; } = 20;

    /// <summary>Process limit per instance (fork bombs stay inside their container).</summary>
    public long PidsLimit { get; set; } = 1024;

    /// <summary>Time limit for pulling a missing image.</summary>
    public TimeSpan PullTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Value of the <c>slipway.owner</c> label on every container this deployer creates, e.g. a test's identity
    /// (<c>&lt;test run&gt;.&lt;test&gt;</c>), so whoever started the deployer removes exactly its containers when done.
    /// Unset (the default): no such label.
    /// </summary>
    public string? Owner { get; set; }

    public IEnumerable<string> Validate()
    {
        if (Owner is not null && !OwnerPattern().IsMatch(Owner))
            yield return $"{Section}:Owner must be 1-128 characters of letters, digits, '.', '_' and '-', starting with a letter or digit";
        if (!System.Net.IPAddress.TryParse(HostIp, out _)) yield return $"{Section}:HostIp '{HostIp}' is not an IP address";
        if (ProbeInterval <= TimeSpan.Zero) yield return $"{Section}:ProbeInterval must be positive";
        if (ProbeRequestTimeout <= TimeSpan.Zero) yield return $"{Section}:ProbeRequestTimeout must be positive";
        if (StopTimeout < TimeSpan.Zero) yield return $"{Section}:StopTimeout must not be negative";
        if (LogTailLines is < 0 or > 1000) yield return $"{Section}:LogTailLines must be 0-1000";
        if (PidsLimit < 16) yield return $"{Section}:PidsLimit must be at least 16";
    }
}
