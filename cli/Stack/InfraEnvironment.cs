namespace Slipway.Cli.Stack;

/// <summary>Reads infra.env (KEY=VALUE lines written by `infra up`) into a dictionary for child processes.</summary>
internal static class InfraEnvironment
{
    public static Dictionary<string, string> Read(string envFile) =>
        File.ReadAllLines(envFile)
            .Where(l => l.Contains('=') && !l.TrimStart().StartsWith('#'))
            .Select(l => (Key: l[..l.IndexOf('=')].Trim(), Value: l[(l.IndexOf('=') + 1)..]))
            .ToDictionary(x => x.Key, x => x.Value);
}
