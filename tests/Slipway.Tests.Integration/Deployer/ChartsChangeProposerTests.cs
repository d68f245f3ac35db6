using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Deployer.ChartsChange;
using Slipway.Gerrit.Rest;
using Slipway.GerritStandIn.Samples;
using StandIn = Slipway.GerritStandIn.GerritStandIn;

namespace Slipway.Tests.Integration.Deployer;

/// <summary>
/// Promote's change in the charts project (PipelineLib's updateCharts) against the real Gerrit stand-in: real git clone
/// and push over HTTP, the change found through REST, the patch set's files read back with git.
/// </summary>
public sealed class ChartsChangeProposerTests : IAsyncLifetime
{
    private const string Charts = SampleCharts.Project;
    private const string Version = "2026-11-27-203000-production";
    private const string ValuesYaml = """
        # citoid's values: reviewers keep these comments.
        docker:
          registry: docker-registry.discovery.wmnet
        main_app:
          image: wikimedia/mediawiki-services-citoid
          version: 2026-01-01-000000-production # the old one
          port: 1970
        resources:
          replicas: 4
        """;
    private const string StagingYaml = """
        main_app:
          version: 2026-01-02-000000-production
          limits:
            cpu: 1
        """;

    private StandIn _gerrit = null!;
    private readonly string _work = Directory.CreateTempSubdirectory("slipway-charts-test-").FullName;
    private string _base = "";
    private int _seedChange;

    public async Task InitializeAsync()
    {
        _gerrit = await StandIn.StartAsync();
        (_seedChange, _base) = await SampleCharts.CreateAsync(_gerrit, new Dictionary<string, string?>
        {
            ["helmfile.d/services/citoid/values.yaml"] = ValuesYaml.ReplaceLineEndings("\n") + "\n",
            ["helmfile.d/services/citoid/values-staging.yaml"] = StagingYaml.ReplaceLineEndings("\n") + "\n",
        }, "Add citoid");
    }

    public async Task DisposeAsync()
    {
        await _gerrit.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    private ChartsChangeOptions Options(string? password = null, List<string>? reviewers = null) => new ChartsChangeOptions
    {
        Enabled = true, GerritProject = Charts, Url = _gerrit.HttpUrl, HttpUser = _gerrit.HttpUser, HttpPassword = password ?? _gerrit.HttpPassword,
        Reviewers = reviewers ?? [],
    };

    private ChartsChangeProposer Proposer(string? password = null, List<string>? reviewers = null) =>
        new(Options(password, reviewers), NullLogger<ChartsChangeProposer>.Instance);

    private static ChartsChangeRequest Request(string runId, IReadOnlyList<string>? environments = null, string chart = "citoid") =>
        new(runId, "production-promote", chart, environments ?? [], Version, $"127.0.0.1:5000/citoid:{Version}@sha256:{new string('1', 64)}",
            "mediawiki/services/citoid", 42, new string('a', 40), new DateTimeOffset(2026, 11, 27, 20, 30, 0, TimeSpan.Zero));

    [Fact]
    public async Task A_promote_to_every_environment_opens_one_change_setting_the_version_and_dropping_environment_pins()
    {
        using var proposer = Proposer();
        var change = await proposer.ProposeAsync(Request("run-1"), CancellationToken.None);

        Assert.NotNull(change);
        Assert.False(change.AlreadyOpen);
        Assert.Equal(ChartsChangeProposer.ChangeIdFor(Charts, "master", "run-1", "production-promote", "citoid"), change.ChangeId);
        Assert.Equal($"{_gerrit.HttpUrl}/c/{Charts}/+/{change.Number}", change.Url);
        Assert.Equal(["helmfile.d/services/citoid/values.yaml"], change.Files);
        var changes = await ChangesAsync();
        var opened = Assert.Single(changes, c => c.Number != _seedChange);
        Assert.Equal((change.Number, change.ChangeId, "NEW", "master"), (opened.Number, opened.ChangeId, opened.Status, opened.Branch));
        Assert.Equal("citoid: pipeline bot promote", opened.Subject);

        var revision = opened.CurrentRevision!;
        Assert.Equal(change.Revision, revision);
        var clone = await FetchAsync(change.Number);
        Assert.Equal(_base, Git(clone, "rev-parse", revision + "^").Trim());
        Assert.Equal("M\thelmfile.d/services/citoid/values-staging.yaml\nM\thelmfile.d/services/citoid/values.yaml\n",
            Git(clone, "diff", "--name-status", revision + "^", revision));
        // The staging pin goes (update_version.py with every environment); staging's other main_app values stay.
        Assert.Equal("main_app:\n  limits:\n    cpu: 1\n", Git(clone, "show", $"{revision}:helmfile.d/services/citoid/values-staging.yaml"));
        Assert.Equal(ValuesYaml.Replace("version: 2026-01-01-000000-production # the old one", $"version: {Version}").ReplaceLineEndings("\n") + "\n",
            Git(clone, "show", $"{revision}:helmfile.d/services/citoid/values.yaml"));
        var message = Git(clone, "log", "-1", "--format=%B", revision);
        Assert.StartsWith($"citoid: pipeline bot promote\n\nPromote citoid to version {Version}\n\n", message);
        Assert.Contains("Slipway-Run: run-1\n", message);
        Assert.EndsWith($"Change-Id: {change.ChangeId}\n\n", message);
        Assert.Equal("Slipway pipeline bot <slipway@localhost>", Git(clone, "log", "-1", "--format=%an <%ae>", revision).Trim());
        // PipelineLib's topic.
        Assert.Contains("\"topic\":\"pipeline-promote\"", _gerrit.Events().Select(e => e.Json).Last(j => j.Contains("patchset-created")).Replace(" ", ""));
    }

    [Fact]
    public async Task A_replayed_attempt_finds_the_change_the_first_opened_and_pushes_nothing()
    {
        // The first attempt pushed, then its deployer died before the step was recorded; a new deployer replays the job.
        using (var first = Proposer())
            Assert.False((await first.ProposeAsync(Request("run-2"), CancellationToken.None))!.AlreadyOpen);
        var eventsAfterFirst = _gerrit.Events().Count;

        using var replay = Proposer();
        var again = await replay.ProposeAsync(Request("run-2"), CancellationToken.None);
        var third = await replay.ProposeAsync(Request("run-2"), CancellationToken.None);

        Assert.True(again!.AlreadyOpen);
        Assert.Equal((again.Number, again.ChangeId, again.Revision, again.Url), (third!.Number, third.ChangeId, third.Revision, third.Url));
        Assert.Equal(again.Files, third.Files);
        var opened = Assert.Single(await ChangesAsync(), c => c.Number != _seedChange);
        Assert.Equal(again.Number, opened.Number);
        Assert.Equal(eventsAfterFirst, _gerrit.Events().Count); // no patch set, no ref update
        // Another run (or another step) is another change.
        var other = await replay.ProposeAsync(Request("run-3", ["staging"]), CancellationToken.None);
        Assert.NotEqual(again.Number, other!.Number);
        Assert.Equal(["helmfile.d/services/citoid/values-staging.yaml"], other.Files);
        Assert.Equal(2, (await ChangesAsync()).Count(c => c.Number != _seedChange));
    }

    [Fact]
    public async Task The_operators_reviewers_are_added_once_by_the_push_that_opens_the_change_and_not_again_on_replay()
    {
        var alice = _gerrit.AddAccount("Alice Release", "alice@example.org", "alice");
        var bob = _gerrit.AddAccount("Bob Charts", "bob@example.org", "bob");
        using (var first = Proposer(reviewers: ["alice", "bob@example.org"]))
        {
            var change = await first.ProposeAsync(Request("run-7"), CancellationToken.None);
            Assert.False(change!.AlreadyOpen);
            Assert.Equal([alice.Id, bob.Id], _gerrit.Reviewers(change.Number).Select(a => a.Id));
            // Gerrit's REST view of the change shows them as reviewers.
            using var http = new HttpClient();
            var json = await http.GetStringAsync($"{_gerrit.HttpUrl}/changes/{change.Number}?o=DETAILED_LABELS");
            Assert.Contains($"\"REVIEWER\":[{{\"_account_id\":{alice.Id}}},{{\"_account_id\":{bob.Id}}}]", json.Replace(" ", "").Replace("\n", ""));
        }
        var eventsAfterFirst = _gerrit.Events().Count;

        using var replay = Proposer(reviewers: ["alice", "bob@example.org"]);
        var again = await replay.ProposeAsync(Request("run-7"), CancellationToken.None);

        Assert.True(again!.AlreadyOpen);
        Assert.Equal([alice.Id, bob.Id], _gerrit.Reviewers(again.Number).Select(a => a.Id));
        Assert.Equal(eventsAfterFirst, _gerrit.Events().Count);
        Assert.Single(await ChangesAsync(), c => c.Number != _seedChange);
    }

    [Fact]
    public async Task The_source_changes_owner_and_approver_are_reviewers_as_pipelinelib_chose_them_and_bots_are_left_out()
    {
        const string source = "mediawiki/services/citoid";
        await _gerrit.CreateProjectAsync(source);
        var carol = _gerrit.AddAccount("Carol Approver", "carol@example.org", "carol");
        var dave = _gerrit.AddAccount("Dave Submitter", "dave@example.org", "dave");
        var bot = _gerrit.AddAccount("Library Upgrader", "upgrader@example.org", "libup", serviceUser: true);
        var alice = _gerrit.AddAccount("Alice Release", "alice@example.org", "alice");

        // Jane's change, +2 by Carol, submitted by a bot: Jane and Carol (PipelineLib's author and +2 voter), then the operator's.
        var approved = await _gerrit.UploadPatchsetAsync(source, "master", new Dictionary<string, string?> { ["a.txt"] = "1" }, "Feature");
        await _gerrit.CommentAsync(approved.ChangeNumber, "LGTM", carol, new Dictionary<string, int> { ["Code-Review"] = 2 });
        await _gerrit.MergeAsync(approved.ChangeNumber, bot);
        using var proposer = Proposer(reviewers: ["alice"]);
        var first = await proposer.ProposeAsync(SourceRequest("run-20", approved.ChangeNumber), CancellationToken.None);
        Assert.Equal([_gerrit.Developer.Id, carol.Id, alice.Id], _gerrit.Reviewers(first!.Number).Select(a => a.Id));

        // A bot's change with no +2, submitted by Dave: the bot is left out, the submitter stands in for the approver.
        var botChange = await _gerrit.UploadPatchsetAsync(source, "master", new Dictionary<string, string?> { ["a.txt"] = "2" }, "Upgrade", uploader: bot);
        await _gerrit.MergeAsync(botChange.ChangeNumber, dave);
        var second = await proposer.ProposeAsync(SourceRequest("run-21", botChange.ChangeNumber), CancellationToken.None);
        Assert.Equal([dave.Id, alice.Id], _gerrit.Reviewers(second!.Number).Select(a => a.Id));

        // A change this Gerrit does not have (another server): the operator's reviewers only, and the change still opens.
        var third = await proposer.ProposeAsync(SourceRequest("run-22", 99_999), CancellationToken.None);
        Assert.Equal([alice.Id], _gerrit.Reviewers(third!.Number).Select(a => a.Id));
    }

    private static ChartsChangeRequest SourceRequest(string runId, int change) =>
        Request(runId) with { SourceChange = change, Version = Version + "-" + runId };

    [Fact]
    public async Task A_reviewer_Gerrit_does_not_know_fails_the_push_visibly_and_opens_nothing()
    {
        using var proposer = Proposer(reviewers: ["nobody-here"]);
        var e = await Assert.ThrowsAsync<ChartsChangeException>(() => proposer.ProposeAsync(Request("run-8"), CancellationToken.None));
        Assert.Contains("reviewer nobody-here not found", e.Message);
        Assert.DoesNotContain(await ChangesAsync(), c => c.Number != _seedChange);
    }

    [Fact]
    public void Reviewers_are_validated_as_Gerrit_accounts_bounded_and_distinct()
    {
        Assert.Empty(Options(reviewers: ["alice", "bob@example.org", "1000096", "release.team-2"]).Validate());
        Assert.Equal(
            [
                "Deployer:Promote:Reviewers entry 'a,r=mallory' is not a Gerrit username, email or account id (letters, digits, '.', '_', '-', '@')",
                "Deployer:Promote:Reviewers entry 'b%wip' is not a Gerrit username, email or account id (letters, digits, '.', '_', '-', '@')",
                "Deployer:Promote:Reviewers entry 'c d' is not a Gerrit username, email or account id (letters, digits, '.', '_', '-', '@')",
                "Deployer:Promote:Reviewers entry '' is not a Gerrit username, email or account id (letters, digits, '.', '_', '-', '@')",
            ],
            Options(reviewers: ["a,r=mallory", "b%wip", "c d", ""]).Validate());
        Assert.Equal(["Deployer:Promote:Reviewers lists an account twice"], Options(reviewers: ["alice", "Alice"]).Validate());
        Assert.Equal([$"Deployer:Promote:Reviewers lists 21 accounts; at most {ChartsChangeOptions.MaxReviewers}"],
            Options(reviewers: [.. Enumerable.Range(1, 21).Select(i => $"user{i}")]).Validate());
    }

    [Fact]
    public async Task A_push_whose_answer_was_lost_is_found_on_replay_and_the_same_commit_is_not_a_second_change()
    {
        // Gerrit took the push but the deployer never learned it: a replay that pushes again (no REST answer yet) sends
        // the same commit (same tree, message and dates), which Gerrit refuses as "no new changes" and the lookup finds.
        using var proposer = Proposer();
        var first = await proposer.ProposeAsync(Request("run-4", ["codfw"]), CancellationToken.None);
        var clone = await FetchAsync(first!.Number);
        var pushedAgain = RunGit(clone, "push", $"{_gerrit.HttpUrl.Replace("http://", $"http://{_gerrit.HttpUser}:{_gerrit.HttpPassword}@")}/a/{Charts}",
            $"{first.Revision}:refs/for/master");
        Assert.NotEqual(0, pushedAgain.ExitCode);
        Assert.Contains("no new changes", pushedAgain.Output);
        Assert.Single(await ChangesAsync(), c => c.Number != _seedChange);
        Assert.True((await proposer.ProposeAsync(Request("run-4", ["codfw"]), CancellationToken.None))!.AlreadyOpen);
    }

    [Theory]
    [InlineData("../../../etc")]
    [InlineData("citoid/../../x")]
    [InlineData("..")]
    [InlineData(".hidden")]
    [InlineData("a b")]
    public async Task A_chart_name_that_is_not_one_plain_segment_is_refused_and_nothing_is_pushed(string chart)
    {
        using var proposer = Proposer();
        var e = await Assert.ThrowsAsync<ChartsChangeException>(() => proposer.ProposeAsync(Request("run-5", chart: chart), CancellationToken.None));
        Assert.True(e.Permanent);
        Assert.Contains("is not a plain chart name", e.Message);
        Assert.DoesNotContain(await ChangesAsync(), c => c.Number != _seedChange);
    }

    [Fact]
    public async Task A_wrong_password_fails_without_showing_it_and_opens_nothing()
    {
        using var proposer = Proposer("not-the-password-xyz");
        var e = await Assert.ThrowsAsync<ChartsChangeException>(() => proposer.ProposeAsync(Request("run-6"), CancellationToken.None));
        Assert.True(e.Permanent);
        Assert.DoesNotContain("not-the-password-xyz", e.ToString());
        Assert.DoesNotContain(await ChangesAsync(), c => c.Number != _seedChange);
    }

    [Fact]
    public void A_values_path_through_a_symbolic_link_is_refused()
    {
        var root = Path.Combine(_work, "repo");
        Directory.CreateDirectory(Path.Combine(root, "helmfile.d"));
        var outside = Directory.CreateDirectory(Path.Combine(_work, "outside")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(root, "helmfile.d", "services"), outside);
        var e = Assert.Throws<ChartsChangeException>(() => ChartsPaths.Contained(root, "helmfile.d/services/citoid/values.yaml"));
        Assert.Contains("symbolic link", e.Message);
        Assert.Equal(Path.Combine(root, "helmfile.d", "other", "values.yaml"), ChartsPaths.Contained(root, "helmfile.d/other/values.yaml"));
    }

    private async Task<List<ChangeInfo>> ChangesAsync()
    {
        using var http = new HttpClient();
        var rest = new GerritRestClient(http, _gerrit.HttpUrl, _gerrit.HttpUser, _gerrit.HttpPassword);
        return await rest.QueryAsync($"project:{Charts}", 100, CancellationToken.None, "CURRENT_REVISION");
    }

    /// <summary>A clone of the charts project with the change's first patch set fetched.</summary>
    private async Task<string> FetchAsync(int change)
    {
        var clone = Path.Combine(_work, "clone-" + Guid.NewGuid().ToString("N")[..8]);
        Git(_work, "clone", "--quiet", $"{_gerrit.HttpUrl}/{Charts}", clone);
        Git(clone, "fetch", "--quiet", "origin", StandIn.PatchSetRef(change, 1));
        await Task.CompletedTask;
        return clone;
    }

    private static string Git(string dir, params string[] args)
    {
        var (code, output) = RunGit(dir, args);
        Assert.True(code == 0, $"git {string.Join(' ', args)}: {output}");
        return output;
    }

    private static (int ExitCode, string Output) RunGit(string dir, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
