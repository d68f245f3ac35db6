namespace Slipway.Hosting;

/// <summary>What distinguishes one Slipway service process: its name (consumer group, logs, /_info) and its own Postgres schema.</summary>
public sealed record SlipwayServiceDefinition(string Name, string Schema);
