using System.Net;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Builder.Building;
using Slipway.Storage;

namespace Slipway.Builder.Runs;

/// <summary>
/// Removes, on a schedule, the local images the builder built for runs that finished long ago. The builder tags each build
/// <c>slipway/&lt;project&gt;:&lt;run id prefix&gt;-&lt;step&gt;</c> (a reused image gets one such tag per run), so a run's
/// tag goes when its run finished more than <see cref="LocalFileRetentionOptions.LocalImages"/> ago (<c>run_state</c>), or
/// when no run of that prefix is known and the image is older than that; the image itself goes with its last tag. Kept:
/// tags of open runs and of runs finished within the window (so a merge run still reuses its patch set's image), the
/// newest <see cref="LocalFileRetentionOptions.LocalImagesKeepPerProject"/> images of each project (the builder does not
/// know which is deployed or a rollback target), images a container uses, and images without Slipway's labels or with
/// any tag not of the builder's shape (base images, the publisher's registry copies). Nothing is forced: an engine
/// conflict (a container created meanwhile) leaves the image and is logged. An untagged image goes by its id only if it is
/// still untagged just before (a tag by id would take a tag given meanwhile with it); a run reusing an image reuses only a
/// tagged one (<see cref="ImageBuilder"/>), so nothing tags an image this cleaner found untagged.
/// </summary>
public sealed partial class LocalImageCleaner(IDockerClient docker, NpgsqlDataSource dataSource, SchemaName schema,
    IOptions<LocalFileRetentionOptions> options, TimeProvider clock, ILogger<LocalImageCleaner> logger) : ScheduledCleaner(options, logger)
{
    private const string RunLabel = "slipway.run";
    private const string ProjectLabel = "slipway.project";

    protected override string What => "local images";

    protected override Task CleanPassAsync(CancellationToken ct) => CleanOnceAsync(ct);

    /// <summary>Removes the image tags (and untagged images) that are due; returns how many references went.</summary>
    public async Task<int> CleanOnceAsync(CancellationToken ct)
    {
        var settings = Settings;
        var images = await docker.Images.ListImagesAsync(new ImagesListParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [RunLabel] = true } },
        }, ct);
        var ours = images.Where(i => Label(i, RunLabel) is { Length: > 0 } && Label(i, ProjectLabel) is { Length: > 0 }).ToList();
        if (ours.Count == 0) return 0;

        // The newest images of each project stay, whatever their runs: one of them may be deployed or a rollback target.
        var keptNewest = ours.GroupBy(i => Label(i, ProjectLabel)!, StringComparer.Ordinal)
            .SelectMany(g => g.OrderByDescending(i => i.Created).ThenBy(i => i.ID, StringComparer.Ordinal).Take(settings.LocalImagesKeepPerProject))
            .Select(i => i.ID).ToHashSet(StringComparer.Ordinal);
        var containers = await docker.Containers.ListContainersAsync(new ContainersListParameters { All = true }, ct);
        var inUse = containers.Select(c => c.ImageID).ToHashSet(StringComparer.Ordinal);

        // What is to be removed from each candidate: its builder tags by run prefix, or (untagged) the image by its run label.
        var plans = new List<(ImagesListResponse Image, List<(string Reference, string RunPrefix)> Refs)>();
        foreach (var image in ours)
        {
            if (keptNewest.Contains(image.ID) || inUse.Contains(image.ID)) continue;
            var tags = (image.RepoTags ?? []).Where(t => t != "<none>:<none>").ToList();
            if (tags.Count == 0)
            {
                var run = Label(image, RunLabel)!;
                if (run.Length >= 8) plans.Add((image, [(image.ID, run[..8])]));
                continue;
            }
            var refs = new List<(string, string)>();
            foreach (var tag in tags)
            {
                var m = BuilderTag().Match(tag);
                if (!m.Success) { refs.Clear(); break; } // a tag someone else gave it: not the builder's alone to remove
                refs.Add((tag, m.Groups["run"].Value));
            }
            if (refs.Count > 0) plans.Add((image, refs));
        }
        if (plans.Count == 0) return 0;

        var runs = await RunsByPrefixAsync(plans.SelectMany(p => p.Refs.Select(r => r.RunPrefix)).Distinct(StringComparer.Ordinal).ToArray(), ct);
        var cutoff = clock.GetUtcNow().UtcDateTime - settings.LocalImages;
        var removed = 0;
        foreach (var (image, refs) in plans)
        {
            var createdOld = image.Created.ToUniversalTime() < cutoff;
            foreach (var (reference, prefix) in refs)
            {
                var due = runs.TryGetValue(prefix, out var state)
                    ? state.AllFinished && state.LastFinished < cutoff
                    : createdOld; // no run of that prefix known (state pruned, or another installation's): by the image's age
                if (due && await RemoveAsync(image.ID, reference, ct)) removed++;
            }
        }
        if (removed > 0) logger.LogInformation("removed {Count} local image references of finished runs", removed);
        return removed;
    }

    /// <summary>Per run id prefix: whether every run with it has finished, and when the last of them did.</summary>
    private async Task<Dictionary<string, (bool AllFinished, DateTime LastFinished)>> RunsByPrefixAsync(string[] prefixes, CancellationToken ct)
    {
        var runs = new Dictionary<string, (bool AllFinished, DateTime LastFinished)>(StringComparer.Ordinal);
        await using var cmd = dataSource.CreateCommand(
            $"SELECT left(run_id, 8), bool_and(outcome IS NOT NULL), max(updated_at) FROM {schema.Value}.run_state WHERE left(run_id, 8) = ANY($1) GROUP BY 1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = prefixes });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            runs[reader.GetString(0)] = (reader.GetBoolean(1), DateTime.SpecifyKind(reader.GetDateTime(2), DateTimeKind.Utc));
        return runs;
    }

    /// <summary>Removes one tag (or an untagged image by id) without force; false when the engine refuses or it is gone.</summary>
    private async Task<bool> RemoveAsync(string imageId, string reference, CancellationToken ct)
    {
        try
        {
            // By id the engine removes an image together with its one tag, if it has one: an image tagged since the list
            // (a run reusing it, ImageBuilder) is that run's now. By tag only that tag goes, and the engine keeps the image
            // while another tag names it.
            if (reference == imageId && (await docker.Images.InspectImageAsync(imageId, ct)).RepoTags is { } tags
                && tags.Any(t => t != "<none>:<none>"))
            {
                logger.LogInformation("local image {Image} was tagged meanwhile ({Tags}); kept", imageId, string.Join(", ", tags));
                return false;
            }
            await docker.Images.DeleteImageAsync(reference, new ImageDeleteParameters { Force = false, NoPrune = false }, ct);
            return true;
        }
        catch (DockerImageNotFoundException)
        {
            return false; // removed meanwhile
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            logger.LogInformation("local image {Reference} is in use; kept ({Reason})", reference, e.ResponseBody);
            return false;
        }
    }

    private static string? Label(ImagesListResponse image, string key) =>
        image.Labels is { } labels && labels.TryGetValue(key, out var value) ? value : null;

    // slipway/<sanitized project>:<first 8 characters of the run id>-<sanitized step> (BuildStepPerformer).
    [GeneratedRegex(@"^slipway/[a-z0-9][a-z0-9._/-]*:(?<run>[A-Za-z0-9_.-]{8})-[A-Za-z0-9_.-]+$")]
    private static partial Regex BuilderTag();
}
