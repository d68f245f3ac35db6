using Slipway.Artifacts;
using Slipway.Builder.Runs;
using Slipway.Contracts;

namespace Slipway.Tests.Unit.Builder;

/// <summary>
/// What a build gets of the files earlier stages copied: only its stage's ancestors' copies, over a tree of its own
/// (the revision untouched), never written through a link of the repository, and a clear reason when a copy is missing.
/// </summary>
public sealed class CopiedFilesOverlayTests : IDisposable
{
    private const string Run = "run-1";
    private readonly string _root = Directory.CreateTempSubdirectory("slipway-overlay-").FullName;
    private readonly RunArtifactStore _store;
    private readonly CopiedFilesOverlay _overlay;

    public CopiedFilesOverlayTests()
    {
        _store = new RunArtifactStore(new ArtifactOptions { Directory = Path.Combine(_root, "artifacts") });
        _overlay = new CopiedFilesOverlay(_store);
        Directory.CreateDirectory(Revision);
        File.WriteAllText(Path.Combine(Revision, "app.py"), "print(1)");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Revision => Path.Combine(_root, "src");
    private string StepTree => Path.Combine(_root, "steps", "use-build");

    // make (copies) → use; side (copies) runs in parallel with make; last follows use.
    private static readonly RunPlan Plan = new()
    {
        Pipeline = "p",
        Stages =
        [
            Stage("make", copies: true), Stage("side", copies: true), Stage("use", copies: false), Stage("last", copies: false),
        ],
        Graph =
        [
            new PlanGraphNode { Stage = "make", DependsOn = [] }, new PlanGraphNode { Stage = "side", DependsOn = [] },
            new PlanGraphNode { Stage = "use", DependsOn = ["make"] }, new PlanGraphNode { Stage = "last", DependsOn = ["use"] },
        ],
    };

    private static PlanStage Stage(string name, bool copies) => new()
    {
        Name = name,
        Steps =
        [
            new PlanStep { Name = $"{name}-build", Kind = StepKind.Build, Build = new BuildParams { Variant = name } },
            new PlanStep { Name = $"{name}-run", Kind = StepKind.Test, Run = new RunParams { Copy = copies ? [new RunCopy { Source = "/x", Destination = "x" }] : null } },
        ],
    };

    private void Copied(string stage, string relative, string content)
    {
        var staging = _store.NewStaging(Run, stage);
        var file = Path.Combine(staging, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, content);
        _store.Publish(Run, stage, staging);
    }

    [Fact]
    public void Only_ancestors_copies_are_laid_over_a_tree_of_the_builds_own()
    {
        Copied("make", "generated/report.txt", "made");
        Copied("side", "side.txt", "parallel");
        Assert.Equal(["make"], CopiedFilesOverlay.CopyingAncestors(Plan, "last"));
        Assert.Empty(CopiedFilesOverlay.CopyingAncestors(Plan, "make"));

        var tree = _overlay.Prepare(Plan, Run, "use", Revision, StepTree);
        Assert.Equal(StepTree, tree);
        Assert.Equal("made", File.ReadAllText(Path.Combine(tree, "generated/report.txt")));
        Assert.Equal("print(1)", File.ReadAllText(Path.Combine(tree, "app.py")));
        Assert.False(File.Exists(Path.Combine(tree, "side.txt"))); // a parallel branch's copy is not this build's
        Assert.False(Directory.Exists(Path.Combine(Revision, "generated"))); // the revision is untouched
        Assert.Equal(Revision, _overlay.Prepare(Plan, Run, "make", Revision, Path.Combine(_root, "steps", "make-build")));
    }

    [Fact]
    public void A_copy_never_writes_through_a_link_of_the_repository()
    {
        var outside = Path.Combine(_root, "outside");
        Directory.CreateDirectory(outside);
        Directory.CreateSymbolicLink(Path.Combine(Revision, "generated"), outside);
        Copied("make", "generated/report.txt", "made");
        var e = Assert.Throws<CopyOverlayException>(() => _overlay.Prepare(Plan, Run, "use", Revision, StepTree));
        Assert.Equal("a copy's destination `generated` is a symbolic link of the repository; a copy never writes through a link", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    [Fact]
    public void A_missing_copy_is_named()
    {
        var e = Assert.Throws<CopyOverlayException>(() => _overlay.Prepare(Plan, Run, "use", Revision, StepTree));
        Assert.Equal("the files stage `make` copied are not in the run artifact directory " +
            "(Artifacts:Directory must be the same directory for the tester and the builder)", e.Message);
    }

    // make's run step copies for take (make → take → seen, make → unseen); take also copies out of its own container.
    private static readonly RunPlan AcrossPlan = new()
    {
        Pipeline = "p",
        Stages =
        [
            Stage("make", copies: false) is var make ? make with { Steps = [make.Steps[0], make.Steps[1] with { Run = new RunParams
                { CopyFor = [new StageCopy { Stage = "take", Copy = [new RunCopy { Source = "/r", Destination = "r" }] }] } }] } : null!,
            Stage("take", copies: true), Stage("seen", copies: false), Stage("unseen", copies: false),
        ],
        Graph =
        [
            new PlanGraphNode { Stage = "make", DependsOn = [] }, new PlanGraphNode { Stage = "take", DependsOn = ["make"] },
            new PlanGraphNode { Stage = "seen", DependsOn = ["take"] }, new PlanGraphNode { Stage = "unseen", DependsOn = ["make"] },
        ],
    };

    [Fact]
    public void Files_taken_out_of_an_earlier_stages_container_are_the_copying_stages_own_copy_wins()
    {
        var staging = _store.NewStaging(Run, "take");
        File.WriteAllText(Path.Combine(staging, "both.txt"), "from make");
        File.WriteAllText(Path.Combine(staging, "taken.txt"), "taken");
        _store.Publish(Run, "take", staging, fromStage: "make");
        Copied("take", "both.txt", "own");

        Assert.Equal(["take"], CopiedFilesOverlay.CopyingAncestors(AcrossPlan, "seen"));
        Assert.Empty(CopiedFilesOverlay.CopyingAncestors(AcrossPlan, "unseen"));
        var tree = _overlay.Prepare(AcrossPlan, Run, "seen", Revision, Path.Combine(_root, "steps", "seen-build"));
        Assert.Equal(("taken", "own"), (File.ReadAllText(Path.Combine(tree, "taken.txt")), File.ReadAllText(Path.Combine(tree, "both.txt"))));
        Assert.Equal(Revision, _overlay.Prepare(AcrossPlan, Run, "unseen", Revision, Path.Combine(_root, "steps", "unseen-build")));
        Assert.NotNull(_store.ArchivedFile(Run, "take", "taken.txt"));
        Assert.Null(_store.ArchivedFile(Run, "make", "taken.txt"));
    }
}
