using System.Text.Json;

namespace Slipway.Embedded;

/// <summary>
/// What `infra up` started, saved to state.json right after each spawn, so `down` can
/// find every process even when `up` failed half way.
/// </summary>
public sealed class InfraState
{
    public KafkaPart? Kafka { get; set; }
    public PostgresPart? Postgres { get; set; }
    public DockerPart? Docker { get; set; }
    public RegistryPart? Registry { get; set; }
    public string? BaseImage { get; set; }

    public sealed class KafkaPart
    {
        public int Pid { get; set; }
        public string? BootstrapServers { get; set; }
    }

    public sealed class PostgresPart
    {
        public int Port { get; set; }
        public string ConnectionString { get; set; } = "";
    }

    public sealed class DockerPart
    {
        /// <summary>0 when the engine was already running (someone else's: never stopped by us).</summary>
        public int StartedPid { get; set; }
        public string Endpoint { get; set; } = "";
    }

    public sealed class RegistryPart
    {
        public int Pid { get; set; }
        public int Port { get; set; }
        public string Username { get; set; } = "";
        public string Password { get; set; } = "";
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>The saved state, or an empty one when the file is missing or unreadable.</summary>
    public static InfraState Load(string file)
    {
        try
        {
            return File.Exists(file) ? JsonSerializer.Deserialize<InfraState>(File.ReadAllText(file), Json) ?? new() : new();
        }
        catch (JsonException)
        {
            return new();
        }
    }

    /// <summary>Atomic (write then rename) and owner-only: it holds the registry password.</summary>
    public void Save(string file)
    {
        var tmp = file + ".tmp";
        File.WriteAllText(tmp, "");
        File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(tmp, JsonSerializer.Serialize(this, Json));
        File.Move(tmp, file, overwrite: true);
    }
}
