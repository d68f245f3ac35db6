namespace Slipway.Embedded;

/// <summary>
/// Removes the containers a deployer or tester made for one owner (their <c>Deployer:Docker:Owner</c> and
/// <c>Tester:Owner</c>, the <c>slipway.owner</c> label), and the tester's networks of that owner. An owner is a
/// dot-separated path, e.g. <c>&lt;test run&gt;.&lt;test environment&gt;</c>: a sweep of a prefix
/// takes every owner under it, so a test run's final check finds what any of its tests left behind.
/// </summary>
public static class DeployedContainerSweep
{
    /// <summary>The label the deployer's docker backend puts on every container it creates when it has an owner.</summary>
    public const string OwnerLabel = "slipway.owner";

    /// <summary>What a sweep found and whether it went: <see cref="Remaining"/> is empty when all were removed.</summary>
    public sealed record Result(IReadOnlyList<string> Found, IReadOnlyList<string> Remaining);

    /// <summary>
    /// Force-removes every container whose owner is <paramref name="owner"/> or under it (<c>owner.</c>…), then lists
    /// again. Run it after the deployer processes have stopped: a running deployer can create a candidate at any time.
    /// </summary>
    public static async Task<Result> RemoveAsync(string owner, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(owner)) throw new ArgumentException("an owner is required: an empty one would match every deployer's containers");
        var found = await ListAsync(owner, ct);
        if (found.Count > 0)
            await ProcessRunner.RunAsync("docker", ["rm", "-f", .. found.Select(c => c.Id)], timeout: TimeSpan.FromMinutes(2), ct: ct);
        var remaining = found.Count == 0 ? [] : await ListAsync(owner, ct);
        await RemoveNetworksAsync(owner, ct);
        return new Result(found.Select(c => c.Name).Order(StringComparer.Ordinal).ToList(),
            remaining.Select(c => c.Name).Order(StringComparer.Ordinal).ToList());
    }

    /// <summary>The networks of the owner (a killed tester's smoke networks), once their containers are gone; best effort.</summary>
    private static async Task RemoveNetworksAsync(string owner, CancellationToken ct)
    {
        var listed = await ProcessRunner.RunAsync("docker",
            ["network", "ls", "--no-trunc", "--filter", $"label={OwnerLabel}", "--format", $"{{{{.ID}}}}\t{{{{.Label \"{OwnerLabel}\"}}}}"],
            timeout: TimeSpan.FromMinutes(1), ct: ct);
        if (!listed.Succeeded) return;
        var ids = listed.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('\t'))
            .Where(f => f.Length == 2 && (f[1] == owner || f[1].StartsWith(owner + ".", StringComparison.Ordinal)))
            .Select(f => f[0]).ToList();
        if (ids.Count > 0) await ProcessRunner.RunAsync("docker", ["network", "rm", .. ids], timeout: TimeSpan.FromMinutes(2), ct: ct);
    }

    /// <summary>Names of the containers, running or not, whose owner is <paramref name="owner"/> or under it.</summary>
    public static async Task<IReadOnlyList<string>> NamesAsync(string owner, CancellationToken ct = default) =>
        (await ListAsync(owner, ct)).Select(c => c.Name).Order(StringComparer.Ordinal).ToList();

    private static async Task<List<(string Id, string Name)>> ListAsync(string owner, CancellationToken ct)
    {
        var listed = await ProcessRunner.RunAsync("docker",
            ["ps", "-a", "--no-trunc", "--filter", $"label={OwnerLabel}", "--format", $"{{{{.ID}}}}\t{{{{.Names}}}}\t{{{{.Label \"{OwnerLabel}\"}}}}"],
            timeout: TimeSpan.FromMinutes(1), ct: ct);
        // Not knowing is not "none left": a sweep that cannot list says so.
        if (!listed.Succeeded) throw new InvalidOperationException($"docker ps failed: {listed.Tail(3)}");
        return listed.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('\t'))
            .Where(f => f.Length == 3 && (f[2] == owner || f[2].StartsWith(owner + ".", StringComparison.Ordinal)))
            .Select(f => (f[0], f[1])).ToList();
    }
}
