using Microsoft.Extensions.Logging;
using Slipway.Contracts;
using Slipway.Runs;
using Slipway.Publisher.Registry;

namespace Slipway.Publisher.Runs;

/// <summary>
/// Publish steps: the built production image pushed to the registry, tagged <c>&lt;UTC timestamp&gt;-&lt;stage&gt;</c>
/// and with the commit SHA (never <c>latest</c>), then older tags pruned. The timestamp is the run's start,
/// so a retried or re-delivered publish computes the same tags and pushes nothing new.
/// </summary>
public sealed class PublishStepPerformer(ImagePublisher publisher, ImageOwners owners, RetentionCleaner retention, ILogger<PublishStepPerformer> logger) : IStepPerformer
{
    public StepKind Kind => StepKind.Publish;

    public async Task<StepResult> PerformAsync(StepExecution x, CancellationToken ct)
    {
        var p = x.Step.Publish ?? new PublishParams();
        var image = x.RequireImage(p.ImageFrom);
        string repository;
        IReadOnlyList<string> tags;
        string? tag;
        try
        {
            var name = Resolved(x, p.Name, "publish.image.name");
            if (name is not null && string.IsNullOrWhiteSpace(name) && x.Step.Runtime?.ContainsKey("publish.image.name") == true)
                throw new ArgumentException($"`publish.image.name` (`{p.Name}`) resolved to an empty name");
            repository = PublishTags.RepositoryName(x.Trigger.Project, name);
            tag = Resolved(x, p.Tag, "publish.image.tag");
            var written = (p.Tags ?? []).Select((t, i) => Resolved(x, t, $"publish.image.tags[{i}]")!).ToList();
            tags = PublishTags.For(x.Run.Started.StartedAt, x.Stage.Name, x.Trigger.Revision, [.. written.Where(t => !DroppedLatest(x, t)), .. RuntimeTags(x, p)]);
        }
        catch (Exception e) when (e is ArgumentException or RuntimeOutputException)
        {
            return Failed(x, image.ImageId, null, e.Message);
        }
        if (await owners.ClaimAsync(repository, x.Trigger.Project, x.RunId, ct) is { } notOwned)
            return Failed(x, image.ImageId, repository, notOwned);
        await x.EmitAsync(x.Started(new PublishStarted { ImageId = image.ImageId, Uri = repository, Tags = tags }));

        PublishResult result;
        try
        {
            result = await publisher.PublishAsync(image.ImageId, repository, tags, ct);
        }
        catch (PublishException e)
        {
            return Failed(x, image.ImageId, repository, e.Message);
        }
        catch (RegistryException e) when (e.IsAuthenticationFailure)
        {
            return Failed(x, image.ImageId, repository, e.Message);
        }
        logger.LogInformation("run {RunId}: published {Uri}@{Digest} as {Tags} (pushed {Pushed})", x.RunId, result.Image.Uri, result.Image.Digest,
            string.Join(", ", result.Image.Tags), result.Pushed.Count == 0 ? "nothing new" : string.Join(", ", result.Pushed));
        try
        {
            await retention.ApplyAsync(repository, ct);
        }
        catch (Exception e) when (e is RegistryException or HttpRequestException)
        {
            // Pruning old tags is housekeeping: the image is published either way, and the next publish prunes again.
            logger.LogWarning("retention of {Repository} failed: {Message}", repository, e.Message);
        }
        // PipelineLib's ${<stage>.imageName} and ${<stage>.imageTag}: the name under the registry and the primary tag.
        var primary = tag is { Length: > 0 } t && tags.Contains(PublishTags.Sanitize(t)) ? PublishTags.Sanitize(t) : tags[0];
        return StepResult.Succeeded(x.Finished(new PublishSucceeded { ImageId = image.ImageId, Image = result.Image, Name = repository, Tag = primary }));
    }

    /// <summary>A field of the step as the plan wrote it, or its runtime outputs resolved from the earlier steps' results.</summary>
    private static string? Resolved(StepExecution x, string? written, string key) =>
        written is null ? null : RuntimeOutputResolver.Field(written, key, x.Step.Runtime, x.Run);

    /// <summary>
    /// A tag resolved from a runtime output that is <c>latest</c>: dropped, as the planner drops a written one. A written
    /// <c>latest</c> never reaches the plan, so only a resolved one can be here.
    /// </summary>
    private bool DroppedLatest(StepExecution x, string tag)
    {
        if (PublishTags.Sanitize(tag) != "latest") return false;
        logger.LogInformation("run {RunId}: a `publish.image.tags` output resolved to `latest`, dropped: it is never pushed", x.RunId);
        return true;
    }

    /// <summary>
    /// PipelineLib's <c>publish.image.tags</c> as <c>$each</c> over an earlier step's output, expanded now. <c>latest</c> is
    /// dropped, as the planner drops a written one (every image is pushed with its timestamp and commit tags instead).
    /// </summary>
    private IEnumerable<string> RuntimeTags(StepExecution x, PublishParams p)
    {
        if (p.TagsEach is not { } each) return [];
        var expanded = RuntimeOutputResolver.Expand(each, "publish.image.tags", x.Run);
        var latest = expanded.Where(t => PublishTags.Sanitize(t) == "latest").ToList();
        if (latest.Count > 0) logger.LogInformation("run {RunId}: `publish.image.tags` yielded `latest`, dropped: it is never pushed", x.RunId);
        return expanded.Except(latest);
    }

    public IStepFailedEvent Failure(StepExecution x, string reason) =>
        FailedEvent(x, x.Image(x.Step.Publish?.ImageFrom)?.ImageId, null, reason);

    private static StepResult Failed(StepExecution x, string imageId, string? uri, string reason) =>
        StepResult.Failed(FailedEvent(x, imageId, uri, reason), reason);

    private static PublishFailed FailedEvent(StepExecution x, string? imageId, string? uri, string reason) =>
        x.Finished(new PublishFailed { ImageId = imageId, Uri = uri, Reason = reason.Length > 4096 ? reason[..4095] + "…" : reason });
}
