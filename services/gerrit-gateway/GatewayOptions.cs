using Slipway.Storage;

namespace Slipway.GerritGateway;

/// <summary>Configuration section <c>Gateway</c>: reconnect pacing and dead-stream detection.</summary>
public sealed class GatewayOptions : IValidatableOptions
{
    public const string Section = "Gateway";

    public double InitialBackoffSeconds { get; set; } = 1;
    public double MaxBackoffSeconds { get; set; } = 60;

    /// <summary>SSH keepalive interval: Gerrit sends no heartbeats, so this is how a dead peer is noticed.</summary>
    public double KeepAliveSeconds { get; set; } = 15;

    public IEnumerable<string> Validate()
    {
        if (InitialBackoffSeconds is <= 0 or > 3600) yield return "Gateway:InitialBackoffSeconds must be in (0, 3600]";
        if (MaxBackoffSeconds < InitialBackoffSeconds || MaxBackoffSeconds > 86400) yield return "Gateway:MaxBackoffSeconds must be between Gateway:InitialBackoffSeconds and 86400";
        if (KeepAliveSeconds is < 1 or > 3600) yield return "Gateway:KeepAliveSeconds must be between 1 and 3600";
    }
}
