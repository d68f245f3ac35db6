using System.Formats.Tar;
using System.Text;
using Dapper;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Builder.Building;
using Slipway.Builder.Runs;
using Slipway.Runs;
using Slipway.Storage;
using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// The builder's scheduled clean-up of its local images: tiny real images (<c>FROM scratch</c> and one file) tagged as
/// the builder tags them, in the machine's Docker engine, and the runs' state in a real Postgres schema. The window is
/// the longest allowed (3650 days) and the runs' ages are set in <c>run_state</c>, so no image another test or helper made
/// (whose runs this schema does not know, built within the window) can be due.
/// </summary>
public sealed class LocalImageCleanerTests
{
    private static readonly TimeSpan Window = TimeSpan.FromDays(3650);

    [Fact]
    public async Task Images_of_long_finished_runs_go_and_open_recent_reused_used_unlabelled_foreign_and_newest_ones_stay()
    {
        var schema = new SchemaName(TestInfrastructure.UniqueName("imgret_"));
        await using var dataSource = NpgsqlDataSource.Create(TestInfrastructure.PostgresConnectionString);
        await using var scope = new DockerTestScope();
        try
        {
            await SchemaMigrator.MigrateAsync(TestInfrastructure.PostgresConnectionString, schema, [typeof(RunStateStore).Assembly], NullLogger.Instance);
            var run = new Dictionary<string, string>();
            foreach (var name in new[] { "kept", "old", "open", "recent", "reusedOld", "reusedRecent", "used", "unlabelled", "foreign", "retried", "unknown" })
                run[name] = Guid.NewGuid().ToString("N");
            // Finished 4000 days ago (older than the window), finished now, or still open; "unknown" has no state at all.
            await using (var conn = await dataSource.OpenConnectionAsync())
            {
                foreach (var name in new[] { "kept", "old", "reusedOld", "used", "unlabelled", "foreign", "retried" })
                    await conn.ExecuteAsync($"INSERT INTO {schema}.run_state (run_id, started, outcome, updated_at) VALUES (@id, '{{}}', 'succeeded', now() - interval '4000 days')", new { id = run[name] });
                foreach (var name in new[] { "recent", "reusedRecent" })
                    await conn.ExecuteAsync($"INSERT INTO {schema}.run_state (run_id, started, outcome) VALUES (@id, '{{}}', 'failed')", new { id = run[name] });
                await conn.ExecuteAsync($"INSERT INTO {schema}.run_state (run_id, started, outcome, updated_at) VALUES (@id, '{{}}', NULL, now() - interval '4000 days')", new { id = run["open"] });
            }

            // The newest images of a project stay, however old their runs: its only image stays with 1 kept, goes with 0.
            var keepProject = $"team/imgret-keep-{scope.Id}";
            var keptTag = Tag(keepProject, run["kept"]);
            await BuildAsync(scope, keptTag, Labels(scope, keepProject, run["kept"]), "kept");
            Assert.Equal(0, await Cleaner(scope, dataSource, schema, keepNewest: 1).CleanOnceAsync(CancellationToken.None));
            await scope.Docker.Images.InspectImageAsync(keptTag);
            Assert.Equal(1, await Cleaner(scope, dataSource, schema, keepNewest: 0).CleanOnceAsync(CancellationToken.None));
            await Assert.ThrowsAsync<DockerImageNotFoundException>(() => scope.Docker.Images.InspectImageAsync(keptTag));

            var project = $"team/imgret-{scope.Id}";
            var oldTag = Tag(project, run["old"]);
            var oldId = await BuildAsync(scope, oldTag, Labels(scope, project, run["old"]), "old");
            var openTag = Tag(project, run["open"]);
            var openId = await BuildAsync(scope, openTag, Labels(scope, project, run["open"]), "open");
            var recentTag = Tag(project, run["recent"]);
            var recentId = await BuildAsync(scope, recentTag, Labels(scope, project, run["recent"]), "recent");
            // Built by a long-finished run and reused (tagged) by a recent one, as a merge run reuses its patch set's image.
            var reusedOldTag = Tag(project, run["reusedOld"]);
            var reusedId = await BuildAsync(scope, reusedOldTag, Labels(scope, project, run["reusedOld"]), "reused");
            var reusedRecentTag = Tag(project, run["reusedRecent"]);
            await TagAsync(scope, reusedId, reusedRecentTag);
            // Used by a container (created, never started): nothing is forced.
            var usedTag = Tag(project, run["used"]);
            var usedId = await BuildAsync(scope, usedTag, Labels(scope, project, run["used"]), "used");
            await scope.Docker.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Image = usedId, Cmd = ["/marker"], Labels = new Dictionary<string, string>(scope.Labels), NetworkDisabled = true,
                HostConfig = new HostConfig { NetworkMode = "none" },
            });
            // The builder's tag shape but none of Slipway's labels: not the builder's.
            var unlabelledTag = Tag(project, run["unlabelled"]);
            var unlabelledId = await BuildAsync(scope, unlabelledTag, new Dictionary<string, string>(scope.Labels), "unlabelled");
            // Also tagged by someone else (a registry copy, a base image): no tag of it is removed.
            var foreignTag = Tag(project, run["foreign"]);
            var foreignId = await BuildAsync(scope, foreignTag, Labels(scope, project, run["foreign"]), "foreign");
            var foreignOtherTag = scope.Tag("foreign");
            await TagAsync(scope, foreignId, foreignOtherTag);
            // A step built twice under one tag: the first image is left untagged and goes by its id, the second by its tag.
            var retriedTag = Tag(project, run["retried"]);
            var retriedFirstId = await BuildAsync(scope, retriedTag, Labels(scope, project, run["retried"]), "retried-1");
            var retriedSecondId = await BuildAsync(scope, retriedTag, Labels(scope, project, run["retried"]), "retried-2");
            // No state for its run (pruned, or another installation's) and built within the window: stays.
            var unknownTag = Tag(project, run["unknown"]);
            var unknownId = await BuildAsync(scope, unknownTag, Labels(scope, project, run["unknown"]), "unknown");

            // The hosted service, as the builder runs it: its first clean-up comes a second after start.
            var cleaner = Cleaner(scope, dataSource, schema, keepNewest: 0, interval: TimeSpan.FromSeconds(1));
            await cleaner.StartAsync(CancellationToken.None);
            try
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
                while (await ExistsAsync(scope, oldId) || await ExistsAsync(scope, retriedFirstId) || await ExistsAsync(scope, retriedSecondId)
                       || (await scope.Docker.Images.InspectImageAsync(reusedId)).RepoTags.Contains(reusedOldTag))
                    await Task.Delay(200, deadline.Token);
            }
            finally
            {
                await cleaner.StopAsync(CancellationToken.None);
            }

            Assert.False(await ExistsAsync(scope, oldId));
            Assert.False(await ExistsAsync(scope, retriedFirstId));
            Assert.False(await ExistsAsync(scope, retriedSecondId));
            Assert.Equal([openTag], (await scope.Docker.Images.InspectImageAsync(openId)).RepoTags);
            Assert.Equal([recentTag], (await scope.Docker.Images.InspectImageAsync(recentId)).RepoTags);
            Assert.Equal([reusedRecentTag], (await scope.Docker.Images.InspectImageAsync(reusedId)).RepoTags);
            Assert.Equal([usedTag], (await scope.Docker.Images.InspectImageAsync(usedId)).RepoTags);
            Assert.Equal([unlabelledTag], (await scope.Docker.Images.InspectImageAsync(unlabelledId)).RepoTags);
            Assert.Equal([foreignOtherTag, foreignTag], (await scope.Docker.Images.InspectImageAsync(foreignId)).RepoTags.Order(StringComparer.Ordinal));
            Assert.Equal([unknownTag], (await scope.Docker.Images.InspectImageAsync(unknownId)).RepoTags);

            // Nothing more is due: a further clean-up removes nothing.
            Assert.Equal(0, await Cleaner(scope, dataSource, schema, keepNewest: 0).CleanOnceAsync(CancellationToken.None));
        }
        finally
        {
            await using var conn = await dataSource.OpenConnectionAsync();
            await conn.ExecuteAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }

    [Fact]
    public async Task An_untagged_image_a_run_tags_after_the_clean_up_listed_it_stays_with_that_tag()
    {
        var schema = new SchemaName(TestInfrastructure.UniqueName("imgret_"));
        await using var dataSource = NpgsqlDataSource.Create(TestInfrastructure.PostgresConnectionString);
        await using var scope = new DockerTestScope();
        try
        {
            await SchemaMigrator.MigrateAsync(TestInfrastructure.PostgresConnectionString, schema, [typeof(RunStateStore).Assembly], NullLogger.Instance);
            var old = Guid.NewGuid().ToString("N");
            var reuser = Guid.NewGuid().ToString("N");
            await using (var conn = await dataSource.OpenConnectionAsync())
            {
                await conn.ExecuteAsync($"INSERT INTO {schema}.run_state (run_id, started, outcome, updated_at) VALUES (@id, '{{}}', 'succeeded', now() - interval '4000 days')", new { id = old });
                await conn.ExecuteAsync($"INSERT INTO {schema}.run_state (run_id, started, outcome) VALUES (@id, '{{}}', NULL)", new { id = reuser });
            }
            // A long-finished run's step built twice under one tag: the first image is left untagged, due by its id.
            var project = $"team/imgret-race-{scope.Id}";
            var tag = Tag(project, old);
            var untaggedId = await BuildAsync(scope, tag, Labels(scope, project, old), "first");
            var taggedId = await BuildAsync(scope, tag, Labels(scope, project, old), "second");
            // An open run reuses the untagged image between the clean-up's list of images and its removals (its next engine
            // call is the list of containers): the image is that run's now.
            var reuseTag = Tag(project, reuser);
            var docker = EngineHook.Before(scope.Docker, "ListContainersAsync", () => TagAsync(scope, untaggedId, reuseTag));

            var cleaner = new LocalImageCleaner(docker, dataSource, schema,
                Options.Create(new LocalFileRetentionOptions { LocalImages = Window, LocalImagesKeepPerProject = 0 }),
                TimeProvider.System, NullLogger<LocalImageCleaner>.Instance);
            Assert.Equal(1, await cleaner.CleanOnceAsync(CancellationToken.None));

            Assert.False(await ExistsAsync(scope, taggedId));
            Assert.Equal([reuseTag], (await scope.Docker.Images.InspectImageAsync(untaggedId)).RepoTags);
        }
        finally
        {
            await using var conn = await dataSource.OpenConnectionAsync();
            await conn.ExecuteAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }

    private static LocalImageCleaner Cleaner(DockerTestScope scope, NpgsqlDataSource dataSource, SchemaName schema, int keepNewest, TimeSpan? interval = null) =>
        new(scope.Docker, dataSource, schema,
            Options.Create(new LocalFileRetentionOptions { LocalImages = Window, LocalImagesKeepPerProject = keepNewest, Interval = interval ?? TimeSpan.FromHours(1) }),
            TimeProvider.System, NullLogger<LocalImageCleaner>.Instance);

    /// <summary>The builder's tag of a run's build step (<c>BuildStepPerformer</c>).</summary>
    private static string Tag(string project, string runId) => $"slipway/{ImageNames.Sanitize(project)}:{runId[..8]}-build-test";

    private static Dictionary<string, string> Labels(DockerTestScope scope, string project, string runId) =>
        new(scope.Labels) { ["slipway.run"] = runId, ["slipway.project"] = project, ["slipway.step"] = "build-test", ["slipway.build-key"] = runId };

    private static async Task TagAsync(DockerTestScope scope, string id, string tag)
    {
        var colon = tag.LastIndexOf(':');
        await scope.Docker.Images.TagImageAsync(id, new ImageTagParameters { RepositoryName = tag[..colon], Tag = tag[(colon + 1)..] });
    }

    private static async Task<bool> ExistsAsync(DockerTestScope scope, string id)
    {
        try
        {
            await scope.Docker.Images.InspectImageAsync(id);
            return true;
        }
        catch (DockerImageNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Builds <c>FROM scratch</c> plus one file (unique content, so a unique image) with the given labels.</summary>
    private static async Task<string> BuildAsync(DockerTestScope scope, string tag, IDictionary<string, string> labels, string marker)
    {
        using var context = new MemoryStream();
        await using (var tar = new TarWriter(context, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, text) in new[] { ("Dockerfile", "FROM scratch\nCOPY marker /marker\n"), ("marker", $"{scope.Id}-{marker}\n") })
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name)
                {
                    DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)),
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                });
        }
        context.Position = 0;
        var errors = new Errors();
        // No cache: for a FROM scratch step the engine's classic builder reads every parentless image on the engine to find
        // a cached one, and fails the build ("unable to find image sha256:...") when another test removes one meanwhile.
        await scope.Docker.Images.BuildImageFromDockerfileAsync(new ImageBuildParameters { Tags = [tag], Labels = labels, Remove = true, ForceRemove = true, NoCache = true },
            context, null, null, errors, CancellationToken.None);
        if (errors.Messages.Count > 0) throw new InvalidOperationException($"building {tag} failed: {string.Join("; ", errors.Messages)}");
        return (await scope.Docker.Images.InspectImageAsync(tag)).ID;
    }

    private sealed class Errors : IProgress<JSONMessage>
    {
        public List<string> Messages { get; } = [];

        public void Report(JSONMessage value)
        {
            if (value.Error?.Message is { Length: > 0 } error) lock (Messages) Messages.Add(error);
        }
    }
}
