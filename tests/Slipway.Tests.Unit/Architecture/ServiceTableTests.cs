using System.Runtime.CompilerServices;
using System.Text.Json;
using Slipway.Contracts;
using Slipway.Runs;

namespace Slipway.Tests.Unit.Architecture;

/// <summary>services/README.md's table "cue → service → emits" cannot drift from the step performers and the event table.</summary>
public sealed class ServiceTableTests
{
    private static readonly Dictionary<string, Type> ServiceAssemblies = new()
    {
        ["builder"] = typeof(Slipway.Builder.Runs.BuildStepPerformer),
        ["tester"] = typeof(Slipway.Tester.Runs.TestStepPerformer),
        ["publisher"] = typeof(Slipway.Publisher.Runs.PublishStepPerformer),
        ["deployer"] = typeof(Slipway.Deployer.Rollout.DeployStepPerformer),
    };

    private sealed record Row(string Cue, string Service, string Step, string Emits);

    private static readonly IReadOnlyList<Row> Table = ReadTable();

    /// <summary>Every performer of every stage service, with the step kind it declares.</summary>
    private static IEnumerable<(string Service, StepKind Kind, string Performer)> Performers() =>
        ServiceAssemblies.SelectMany(s => s.Value.Assembly.GetTypes()
            .Where(t => typeof(IStepPerformer).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            // Kind is a constant of the type; reading it needs none of the performer's dependencies.
            .Select(t => (s.Key, ((IStepPerformer)RuntimeHelpers.GetUninitializedObject(t)).Kind, t.Name)));

    private static string NameOf(StepKind kind) => JsonNamingPolicy.KebabCaseLower.ConvertName(kind.ToString());

    [Fact]
    public void Every_step_performer_has_its_row_naming_every_event_of_its_kind()
    {
        var performers = Performers().ToList();
        Assert.Equal(Enum.GetValues<StepKind>().Length, performers.Count);
        foreach (var (service, kind, performer) in performers)
        {
            var row = Table.SingleOrDefault(r => r.Service == service && r.Step == NameOf(kind));
            Assert.True(row is not null, $"services/README.md has no row for {service} / {NameOf(kind)} ({performer})");
            foreach (var type in StepEventKinds.NamesOf(kind))
                Assert.True(row.Emits.Contains($"`{type}`"), $"services/README.md: the {service} / {NameOf(kind)} row does not name {type}");
        }
    }

    [Fact]
    public void Every_step_row_has_its_performer()
    {
        var performers = Performers().Select(p => (p.Service, NameOf(p.Kind))).ToHashSet();
        foreach (var row in Table.Where(r => r.Step != "—"))
            Assert.True(performers.Contains((row.Service, row.Step)), $"services/README.md names {row.Service} / {row.Step}, but no performer does it");
    }

    [Fact]
    public void Every_event_type_is_emitted_by_some_row()
    {
        var emits = string.Join(" ", Table.Select(r => r.Emits));
        foreach (var type in EventTypes.All)
            Assert.True(emits.Contains($"`{type}`"), $"services/README.md: no service emits {type}");
    }

    [Fact]
    public void Every_step_event_in_the_table_is_a_registered_event_type() =>
        Assert.All(StepEventKinds.All.Keys, t => Assert.Contains(EventTypes.NameOf(t), EventTypes.All));

    private static List<Row> ReadTable()
    {
        var path = Path.Combine(RepoRoot(), "services", "README.md");
        var rows = File.ReadAllLines(path)
            .Where(l => l.StartsWith('|') && !l.StartsWith("|---", StringComparison.Ordinal))
            .Select(l => l.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray())
            .ToList();
        Assert.True(rows.Count > 1 && rows[0] is ["cue", "service", "step", "emits"], $"{path}: the table's header is not | cue | service | step | emits |");
        return rows.Skip(1).Select(c => new Row(c[0], c[1], c[2], c[3])).ToList();
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Slipway.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Slipway.sln above {AppContext.BaseDirectory}");
    }
}
