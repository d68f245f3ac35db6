using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Slipway.Builder.Building;

namespace Slipway.Tests.Unit.Builder;

/// <summary>The builder's scheduled clean-up of its local files, on a real directory tree.</summary>
public sealed class LocalFileCleanerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("slipway-local-cleanup-").FullName;
    private string Logs => Path.Combine(_root, "logs");
    private string Temp => Path.Combine(_root, "tmp");

    [Fact]
    public void Old_build_logs_and_stale_context_archives_go_recent_ones_and_other_files_stay()
    {
        Directory.CreateDirectory(Logs);
        Directory.CreateDirectory(Temp);
        var now = DateTime.UtcNow;
        var oldLog = File(Logs, "20261101T100000Z-demo-abcd1234.log", now.AddDays(-15));
        var recentLog = File(Logs, "20261126T100000Z-demo-abcd1234.log", now.AddDays(-13));
        var stale = File(Temp, "slipway-context-0123456789abcdef0123456789abcdef.tar", now.AddHours(-7)); // left by a killed builder
        var building = File(Temp, "slipway-context-fedcba9876543210fedcba9876543210.tar", now.AddMinutes(-20)); // a build under way
        var foreign = File(Temp, "someone-else.tar", now.AddDays(-30));
        var oldNotALog = File(Logs, "notes.txt", now.AddDays(-30));
        var target = File(_root, "precious.log", now.AddDays(-30));
        var link = Path.Combine(Logs, "link.log");
        System.IO.File.CreateSymbolicLink(link, target);
        System.IO.File.SetLastWriteTimeUtc(link, now.AddDays(-30));

        var cleaner = new LocalFileCleaner(Options.Create(new BuilderOptions { LogDir = Logs }),
            Options.Create(new LocalFileRetentionOptions { BuildLogs = TimeSpan.FromDays(14), StaleContextArchives = TimeSpan.FromHours(6) }),
            TimeProvider.System, NullLogger<LocalFileCleaner>.Instance) { TempDir = Temp };

        Assert.Equal(2, cleaner.CleanOnce());
        Assert.False(System.IO.File.Exists(oldLog));
        Assert.False(System.IO.File.Exists(stale));
        Assert.All([recentLog, building, foreign, oldNotALog, target], f => Assert.True(System.IO.File.Exists(f), f));
        Assert.True(System.IO.File.Exists(link)); // a link is never followed nor removed
        Assert.Equal(0, cleaner.CleanOnce());
    }

    [Fact]
    public void A_runs_copied_files_go_with_its_build_logs()
    {
        var artifacts = Path.Combine(_root, "artifacts");
        var store = new Slipway.Artifacts.RunArtifactStore(new Slipway.Artifacts.ArtifactOptions { Directory = artifacts });
        var now = DateTime.UtcNow;
        foreach (var (run, age) in new[] { ("old-run", 15), ("new-run", 13) })
        {
            var staging = store.NewStaging(run, "make");
            File(staging, "report.txt", now);
            store.Publish(run, "make", staging);
            Directory.SetLastWriteTimeUtc(Path.Combine(artifacts, run), now.AddDays(-age));
        }
        var cleaner = new LocalFileCleaner(Options.Create(new BuilderOptions { LogDir = Logs }),
            Options.Create(new LocalFileRetentionOptions { BuildLogs = TimeSpan.FromDays(14) }), TimeProvider.System,
            NullLogger<LocalFileCleaner>.Instance, store) { TempDir = Temp };

        Assert.Equal(1, cleaner.CleanOnce());
        Assert.Null(store.StageDirectory("old-run", "make"));
        Assert.NotNull(store.StageDirectory("new-run", "make"));
    }

    [Fact]
    public void Missing_directories_are_no_error()
    {
        var cleaner = new LocalFileCleaner(Options.Create(new BuilderOptions { LogDir = Path.Combine(_root, "none") }),
            Options.Create(new LocalFileRetentionOptions()), TimeProvider.System, NullLogger<LocalFileCleaner>.Instance) { TempDir = Path.Combine(_root, "gone") };
        Assert.Equal(0, cleaner.CleanOnce());
    }

    [Fact]
    public void Windows_shorter_than_a_build_are_refused_at_start_up()
    {
        Assert.Equal(["Retention:StaleContextArchives must be between 00:10:00 and 30.00:00:00 (longer than the longest build)"],
            new LocalFileRetentionOptions { StaleContextArchives = TimeSpan.FromMinutes(1) }.Validate());
        Assert.Empty(new LocalFileRetentionOptions().Validate());
    }

    [Fact]
    public void Local_image_retention_outside_its_range_is_refused_at_start_up()
    {
        Assert.Equal(["Retention:LocalImages must be between 01:00:00 and 3650.00:00:00",
                "Retention:LocalImagesKeepPerProject must be between 0 and 1000"],
            new LocalFileRetentionOptions { LocalImages = TimeSpan.FromMinutes(59), LocalImagesKeepPerProject = -1 }.Validate());
        Assert.Equal(["Retention:LocalImages must be between 01:00:00 and 3650.00:00:00",
                "Retention:LocalImagesKeepPerProject must be between 0 and 1000"],
            new LocalFileRetentionOptions { LocalImages = TimeSpan.FromDays(3651), LocalImagesKeepPerProject = 1001 }.Validate());
        Assert.Empty(new LocalFileRetentionOptions { LocalImages = TimeSpan.FromHours(1), LocalImagesKeepPerProject = 0 }.Validate());
    }

    private static string File(string dir, string name, DateTime modified)
    {
        var path = Path.Combine(dir, name);
        System.IO.File.WriteAllText(path, "x");
        System.IO.File.SetLastWriteTimeUtc(path, modified);
        return path;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
