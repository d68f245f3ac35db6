using System.Text;
using Slipway.Pipeline.Planning;
using static Slipway.Tests.Pipeline.Repo;

namespace Slipway.Tests.Pipeline;

public class HostileInputTests
{
    [Fact]
    public void Huge_file_is_refused_before_parsing()
    {
        var config = "pipelines:\n  p:\n    stages: [{name: s}]\n# " + new string('x', 1024 * 1024) + "\n";
        Assert.Equal(".pipeline/config.yaml: file too large: more than 1048576 bytes", Error(PlanConfig(config)));
    }

    [Fact]
    public void Alias_bomb_is_refused()
    {
        var sb = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < 9; i++)
            sb.Append($"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n");
        sb.Append("pipelines: {p: {stages: [{name: s, exports: {x: *a8}}]}}\n");
        var error = Error(PlanConfig(sb.ToString()));
        Assert.Contains("too large: more than 100000 YAML nodes (after alias expansion)", error);
    }

    [Fact]
    public void Deep_nesting_is_refused()
    {
        var config = "pipelines: {p: {stages: [{name: s, exports: {x: " + new string('[', 100) + new string(']', 100) + "}}]}}\n";
        Assert.Contains("too deeply nested: more than 32 levels", Error(PlanConfig(config)));
    }

    [Fact]
    public void Long_lists_are_refused()
    {
        var config = "pipelines:\n  p:\n    stages:\n" + string.Concat(Enumerable.Range(0, 600).Select(i => $"      - name: s{i}\n"));
        Assert.Contains("list has more than 500 items", Error(PlanConfig(config)));
    }

    [Theory]
    [InlineData("build: test\n        blubberfile: ../../etc/passwd", "`blubberfile` `../../etc/passwd` leads outside the repository")]
    [InlineData("build: test\n        blubberfile: /etc/passwd", "`blubberfile` `/etc/passwd` must be a relative path inside the repository")]
    [InlineData("build: {variant: test, context: ../..}", "`build.context` `../..` leads outside the repository")]
    [InlineData("build: {variant: test, context: 'https://example.org/repo.git'}", "`build.context` `https://example.org/repo.git` must be a relative path inside the repository")]
    [InlineData("build: {variant: test, context: 'C:\\temp'}", "`build.context` `C:\\temp` must be a relative path inside the repository")]
    public void Path_traversal_is_refused(string stageYaml, string expected)
    {
        var error = Error(PlanConfig($"pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages:\n      - name: s\n        {stageYaml}\n"));
        Assert.Equal($"pipeline `p`: stage `s`: {expected}", error);
    }

    // .NET's `$` also matches before a final line break: a stage or pipeline name ending in "\n" passed the name rule.
    [Theory]
    [InlineData("pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages: [{name: \"s\\n\"}]\n",
        ".pipeline/config.yaml: line 4: pipelines.p.stages[0].name: stage names must start with a letter or digit, use only letters, digits, '.', '_' and '-', and be at most 100 characters")]
    [InlineData("pipelines:\n  \"p\\n\":\n    blubberfile: blubber.yaml\n    stages: [{name: s}]\n",
        ".pipeline/config.yaml: line 2: pipelines.p : pipeline names must start with a letter or digit, use only letters, digits, '.', '_' and '-', and be at most 100 characters")]
    public void A_name_ending_in_a_line_break_is_refused(string config, string expected)
    {
        Assert.Equal(expected, Error(PlanConfig(config)));
    }

    [Fact]
    public void Directory_outside_the_repo_is_refused()
    {
        var error = Error(PlanConfig("pipelines:\n  p:\n    directory: ../x\n    blubberfile: blubber.yaml\n    stages: [{name: s}]\n"));
        Assert.Equal("pipeline `p`: `directory` `../x` leads outside the repository", error);
    }

    [Fact]
    public void A_line_break_that_trips_the_yaml_scanner_is_refused_not_thrown()
    {
        // YamlDotNet throws InvalidOperationException (not a YamlException) on this input.
        var config = "pipelines:\n  p:\n    stages:\n      - name: s\n        run: {image: 'x', arguments: {$each: [x, y], $in: 'a b\nc d', $yield: '${.y}'}}\n";
        Assert.Equal(".pipeline/config.yaml: invalid YAML: the parser could not read it", Error(PlanConfig(config)));
    }

    [Fact]
    public void A_blubber_file_that_trips_the_yaml_scanner_refuses_its_builds_not_the_planner()
    {
        var files = new Dictionary<string, string>
        {
            [".pipeline/config.yaml"] = "pipelines:\n  p:\n    blubberfile: blubber.yaml\n    stages: [{name: test}]\n",
            [".pipeline/blubber.yaml"] = "version: v4\nvariants: {test: {entrypoint: ['a\nb', x], runs: {as: '${.y}'}}}\n",
        };
        var plan = Single(Repo.Plan(files));
        Assert.StartsWith(".pipeline/blubber.yaml: ", Step(plan, "test-build").Build!.Refusal);
    }

    [Fact]
    public void Garbage_never_throws()
    {
        foreach (var text in new[] { "", "---\n---\n", "[1, 2]", "pipelines: ~", "pipelines: {p: ~}", "\t\u0000", "pipelines: {p: {stages: [~]}}", "!!binary aGk=" })
        {
            var r = PlanConfig(text);
            Assert.True(r.Error is not null || r.Refused.Count == 1, text); // a broken pipeline alone is refused alone
            Assert.Empty(r.Plans);
        }
    }
}
