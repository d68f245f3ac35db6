using Slipway.Hosting;

namespace Slipway.Tester;

/// <summary>
/// Configuration section <c>Tester</c>: the isolation every test and smoke container gets. The limits are
/// central policy (design: untrusted code runs with no network, CPU/memory/pid limits, a time limit, non-root).
/// </summary>
public sealed partial class TesterOptions : IValidatableOptions
{
    public const string Section = "Tester";

    /// <summary>Memory limit per container in bytes (swap is not allowed on top). Default 1 GiB.</summary>
    public long MemoryBytes { get; set; } = 1L << 30;

    /// <summary>CPUs per container (Docker NanoCPUs = Cpus * 1e9). Default 1.0.</summary>
    public double Cpus { get; set; } = 1.0;

    /// <summary>Most processes/threads a container may have (fork bombs stop here). Default 256.</summary>
    public long PidsLimit { get; set; } = 256;

    /// <summary>Time limit of a test run when the request names none. Default 1200 s (20 minutes).</summary>
    public int DefaultTimeLimitSeconds { get; set; } = 1200;

    /// <summary>Longest time limit a request may ask for. Default 4 hours.</summary>
    public int MaxTimeLimitSeconds { get; set; } = 4 * 3600;

    /// <summary>Bytes of the most recent output kept in memory per run (a ring buffer); older output is dropped. Default 64 KiB.</summary>
    public int OutputBufferBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Image of the smoke step's port forwarder (needs <c>perl</c>, e.g. the organisation's Debian base image).
    /// Set: the service runs on a per-run <c>internal</c> network (no outbound traffic) and this trusted
    /// forwarder, on the default bridge and that network, publishes its port on 127.0.0.1 (Docker does not
    /// publish ports of containers on internal networks). Empty: the smoke step is refused, unless
    /// <see cref="AllowUnisolatedSmoke"/> is set.
    /// </summary>
    public string? SmokeForwarderImage { get; set; }

    /// <summary>
    /// Without <see cref="SmokeForwarderImage"/>, run the service under smoke test on the default bridge with its port
    /// published on 127.0.0.1 only. It can then reach the network (and the host's listeners), so it is an explicit
    /// choice for a trusted or development setup. Default false: the patch set's service never runs un-isolated by default.
    /// </summary>
    public bool AllowUnisolatedSmoke { get; set; }

    /// <summary>Timeout of each smoke HTTP request (readiness poll, spec, x-amples, liveness). Default 10 s.</summary>
    public int SmokeRequestTimeoutSeconds { get; set; } = 10;

    /// <summary>Delay between readiness polls. Default 500 ms.</summary>
    public int SmokeReadinessPollMs { get; set; } = 100;

    /// <summary>Most x-amples checks run per smoke test (a spec is untrusted input). Default 200.</summary>
    public int SmokeMaxChecks { get; set; } = 200;

    /// <summary>Largest response body read by a check, in bytes; a bigger one fails the check. Default 4 MiB.</summary>
    public int SmokeMaxBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Largest OpenAPI spec read, in bytes (it is parsed whole); a bigger one fails the smoke test. Default 4 MiB.</summary>
    public int SmokeMaxSpecBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Time budget of all x-amples checks of one smoke test (each request also has its own timeout): a service
    /// that answers slowly cannot hold the step for checks × timeout. Default 300 s.
    /// </summary>
    public int SmokeChecksTimeoutSeconds { get; set; } = 300;

    /// <summary>
    /// Age after which a smoke step's container or network on the engine is a leftover of a tester that was killed
    /// (<see cref="Smoke.SmokeLeftoverSweeper"/>): longer than any smoke step lives (readiness timeout + checks budget).
    /// Default 60 minutes.
    /// </summary>
    public int SmokeLeftoverMinutes { get; set; } = 60;

    /// <summary>
    /// The smoke step's network and forwarder are made while the run's test step runs (<see cref="Smoke.SmokeWarmPairs"/>)
    /// and removed if the smoke step has not taken them within this many minutes; after a smoke step one spare pair for its
    /// port waits (as long) for the next run. 0: made by the smoke step itself, no spares. Default 10.
    /// </summary>
    public int SmokeWarmMinutes { get; set; } = 10;

    /// <summary>
    /// Pause before a finished smoke step's containers and network are removed. Nobody waits for the removals, while the
    /// run's next step usually does engine work at once (the publish: a push from the same engine), which the removals
    /// slowed by ≈ 0.3 s (docs/benchmarks.md); a stopping tester removes at once. Default 3000 ms.
    /// </summary>
    public int SmokeCleanupDelayMs { get; set; } = 3000;

    /// <summary>
    /// Value of the <c>slipway.owner</c> label on every container and network this tester creates (as
    /// <c>Deployer:Docker:Owner</c> on the deployer's), e.g. a test's identity, so whoever started a tester that was killed
    /// removes exactly what it left. Unset (the default): no such label.
    /// </summary>
    public string? Owner { get; set; }

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial System.Text.RegularExpressions.Regex OwnerPattern();

    /// <summary>
    /// Largest log file the container engine keeps on the host per test or smoke container (json-file
    /// <c>max-size</c>); the output read back is bounded separately (<see cref="OutputBufferBytes"/>). Default 10 MiB.
    /// </summary>
    public long ContainerLogMaxBytes { get; set; } = 10L * 1024 * 1024;

    /// <summary>Log files kept per container (json-file <c>max-file</c>): the host holds at most this × <see cref="ContainerLogMaxBytes"/>. Default 2.</summary>
    public int ContainerLogMaxFiles { get; set; } = 2;

    public IEnumerable<string> Validate()
    {
        if (MemoryBytes < 16L * 1024 * 1024) yield return $"Tester:MemoryBytes {MemoryBytes} is too small (at least 16 MiB)";
        if (Owner is not null && !OwnerPattern().IsMatch(Owner))
            yield return "Tester:Owner must be 1-128 characters of letters, digits, '.', '_' and '-', starting with a letter or digit";
        if (!(Cpus is > 0 and <= 512)) yield return $"Tester:Cpus {Cpus} must be > 0 and <= 512";
        if (PidsLimit < 8) yield return $"Tester:PidsLimit {PidsLimit} must be at least 8";
        if (DefaultTimeLimitSeconds <= 0) yield return $"Tester:DefaultTimeLimitSeconds {DefaultTimeLimitSeconds} must be positive";
        if (MaxTimeLimitSeconds < DefaultTimeLimitSeconds) yield return $"Tester:MaxTimeLimitSeconds {MaxTimeLimitSeconds} must be at least DefaultTimeLimitSeconds ({DefaultTimeLimitSeconds})";
        if (OutputBufferBytes is < 1024 or > 64 * 1024 * 1024) yield return $"Tester:OutputBufferBytes {OutputBufferBytes} must be between 1 KiB and 64 MiB";
        if (SmokeRequestTimeoutSeconds <= 0) yield return $"Tester:SmokeRequestTimeoutSeconds {SmokeRequestTimeoutSeconds} must be positive";
        if (SmokeReadinessPollMs is < 10 or > 60_000) yield return $"Tester:SmokeReadinessPollMs {SmokeReadinessPollMs} must be between 10 and 60000";
        if (SmokeMaxChecks is < 1 or > 10_000) yield return $"Tester:SmokeMaxChecks {SmokeMaxChecks} must be between 1 and 10000";
        if (SmokeMaxBodyBytes is < 1024 or > 256 * 1024 * 1024) yield return $"Tester:SmokeMaxBodyBytes {SmokeMaxBodyBytes} must be between 1 KiB and 256 MiB";
        if (SmokeMaxSpecBytes is < 1024 or > 256 * 1024 * 1024) yield return $"Tester:SmokeMaxSpecBytes {SmokeMaxSpecBytes} must be between 1 KiB and 256 MiB";
        if (SmokeChecksTimeoutSeconds <= 0) yield return $"Tester:SmokeChecksTimeoutSeconds {SmokeChecksTimeoutSeconds} must be positive";
        if (SmokeCleanupDelayMs is < 0 or > 60_000) yield return $"Tester:SmokeCleanupDelayMs {SmokeCleanupDelayMs} must be between 0 and 60000";
        if (SmokeWarmMinutes is < 0 or > 1440) yield return $"Tester:SmokeWarmMinutes {SmokeWarmMinutes} must be between 0 and 1440";
        if (SmokeWarmMinutes >= SmokeLeftoverMinutes && SmokeWarmMinutes > 0)
            yield return $"Tester:SmokeWarmMinutes {SmokeWarmMinutes} must be below Tester:SmokeLeftoverMinutes ({SmokeLeftoverMinutes}), or the sweeper removes pairs still kept";
        if (SmokeLeftoverMinutes < 0) yield return $"Tester:SmokeLeftoverMinutes {SmokeLeftoverMinutes} must not be negative";
        if (ContainerLogMaxBytes is < 64 * 1024 or > 1L << 30) yield return $"Tester:ContainerLogMaxBytes {ContainerLogMaxBytes} must be between 64 KiB and 1 GiB";
        if (ContainerLogMaxFiles is < 1 or > 10) yield return $"Tester:ContainerLogMaxFiles {ContainerLogMaxFiles} must be between 1 and 10";
        if (SmokeForwarderImage is { Length: > 0 } f && f.Any(char.IsWhiteSpace)) yield return $"Tester:SmokeForwarderImage '{f}' is not an image reference";
    }
}
