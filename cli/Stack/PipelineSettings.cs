using System.Security.Cryptography;
using System.Text.Json;

namespace Slipway.Cli.Stack;

/// <summary>
/// The stage services' settings on the embedded stack (work directories, the configuration registry, approvers,
/// the deployer's API token), and least privilege: each service gets only the credentials design.md gives it.
/// The deployer's URL and token are saved in <c>stack.json</c> so <c>slipway approve</c> and <c>rollback</c> find them.
/// </summary>
internal static class PipelineSettings
{
    public sealed record StackFile(string DeployerUrl, string DeployerToken, string ReporterUrl, string User);

    public static Dictionary<string, string> Create(string stateDir, string user, string? baseImage)
    {
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        return new Dictionary<string, string>
        {
            ["Builder__WorkDir"] = Path.Combine(stateDir, "builder"),
            // A team's repository builds as it does elsewhere: its install steps reach the public package registries (and
            // the machine's apt mirrors) through the builder's allow-list proxy, nothing else. Production lists its own mirrors.
            ["Builder__Egress__AllowedUrls__0"] = "https://registry.npmjs.org/",
            ["Builder__Egress__AllowedUrls__1"] = "https://pypi.org/simple",
            ["Builder__Egress__AllowedUrls__2"] = "https://files.pythonhosted.org/",
            // PipelineLib's copy: the tester writes, the builder and the reporter read (one machine, one directory).
            ["Artifacts__Directory"] = Path.Combine(stateDir, "artifacts"),
            ["ConfigRegistry__RepositoryUrl"] = Path.Combine(stateDir, "config-registry.git"),
            ["ConfigRegistry__WorkDir"] = Path.Combine(stateDir, "deployer", "config-registry"),
            ["ConfigRegistry__CreateIfMissing"] = "true",
            ["Deployer__Approvers__0"] = user,
            [$"Deployer__ApiTokens__{token}"] = user,
            ["Deployer__Environments__staging__Replicas"] = "1",
            ["Deployer__Environments__production__Replicas"] = "3",
            // The stack's own label on what its deployer starts: stopping it removes those containers, never another stack's.
            ["Deployer__Docker__Owner"] = OwnerOf(stateDir),
            ["Tester__Owner"] = OwnerOf(stateDir),
            // Smoke tests run the service on an internal network; a forwarder from the base image publishes its port on 127.0.0.1.
            ["Tester__SmokeForwarderImage"] = baseImage ?? "",
            // A stack started without a base image (`--skip-base-image`) has no forwarder: a development choice, said here.
            ["Tester__AllowUnisolatedSmoke"] = baseImage is null ? "true" : "false",
        };
    }

    /// <summary>The deployer's <c>slipway.owner</c> label for the stack whose state lives in <paramref name="stateDir"/>.</summary>
    public static string OwnerOf(string stateDir) =>
        "stack-" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(stateDir))))[..16];

    public static string TokenOf(IReadOnlyDictionary<string, string> environment) =>
        environment.Keys.First(k => k.StartsWith("Deployer__ApiTokens__", StringComparison.Ordinal))["Deployer__ApiTokens__".Length..];

    /// <summary>Drops the credentials a service must not hold (design.md, "holds credentials for").</summary>
    public static Dictionary<string, string> ForService(string service, IReadOnlyDictionary<string, string> environment)
    {
        var env = environment.ToDictionary();
        if (service is not ("reporter" or "gerrit-gateway")) { env.Remove("Gerrit__HttpPassword"); env.Remove("Gerrit__HttpUser"); }
        if (service is "tester" or "reporter" or "gerrit-gateway") { env.Remove("Registry__Password"); }
        if (service != "deployer")
        {
            foreach (var key in env.Keys.Where(k => k.StartsWith("Deployer__ApiTokens__", StringComparison.Ordinal)).ToList()) env.Remove(key);
            // The account promote pushes charts changes with (Deployer:Promote) is the deployer's alone.
            env.Remove("Deployer__Promote__HttpUser");
            env.Remove("Deployer__Promote__HttpPassword");
        }
        return env;
    }

    public static void Save(string stateDir, StackFile file) =>
        File.WriteAllText(Path.Combine(stateDir, "stack.json"), JsonSerializer.Serialize(file));

    public static StackFile? Load(string stateDir)
    {
        var path = Path.Combine(stateDir, "stack.json");
        return File.Exists(path) ? JsonSerializer.Deserialize<StackFile>(File.ReadAllText(path)) : null;
    }
}
