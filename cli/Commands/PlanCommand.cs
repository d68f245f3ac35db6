using System.CommandLine;
using Slipway.Contracts;
using Slipway.Pipeline.Planning;
using Slipway.Pipeline.Report;

namespace Slipway.Cli.Commands;

/// <summary>
/// `slipway plan [DIR] [--pipeline NAME] [--event patchset|merge]`: what a run of DIR's <c>.pipeline/</c> would do —
/// pipelines, stages, steps, the execution graph, images built, what is published and deployed — or every refusal
/// as <c>file:line: message</c> on stderr, planned by the builder's own planner. Exit 0 when everything plans, 2 when
/// nothing can (no .pipeline/, a config that does not parse, an unknown pipeline), 4 when a pipeline or build is refused.
/// </summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("DIR") { Description = "the repository's working tree (default: the current directory)", DefaultValueFactory = _ => "." };
        var pipeline = new Option<string[]>("--pipeline") { Description = "plan only this pipeline (PipelineLib's PLIB_PIPELINE); repeatable" };
        var trigger = new Option<string>("--event")
        {
            Description = "what triggers the run: patchset (build and test) or merge (also publish, deploy, promote)",
            DefaultValueFactory = _ => "patchset",
        };
        trigger.AcceptOnlyFromAmong("patchset", "merge");
        var branch = new Option<string>("--branch") { Description = "the branch the run is on (release branches publish on merge)", DefaultValueFactory = _ => "master" };
        var project = new Option<string?>("--project") { Description = "the Gerrit project name (default: the directory's name)" };
        var tag = new Option<string?>("--tag") { Description = "plan the run a new tag of this name starts (as a merge, with ${setup.tag} and no branch)" };
        var command = new Command("plan", "show what a run of a repository's .pipeline/ would do, or why it is refused")
        {
            dir, pipeline, trigger, branch, project, tag,
        };
        command.SetAction(parse =>
        {
            var directory = parse.GetValue(dir)!;
            var names = parse.GetValue(pipeline) is { Length: > 0 } n ? n : null;
            var tagName = parse.GetValue(tag) is { Length: > 0 } t ? t : null;
            var kind = tagName is not null ? TriggerKind.RefUpdate : parse.GetValue(trigger) == "merge" ? TriggerKind.Merge : TriggerKind.Patchset;
            var name = parse.GetValue(project) ?? Path.GetFileName(Path.GetFullPath(directory).TrimEnd('/'));
            // No run yet: zeros stand for the commit and the run id (`${setup.logURL}` links to a run page of that id).
            var context = new PlanningContext(kind, name, tagName is null ? parse.GetValue(branch) : null, new string('0', 40), DateTimeOffset.UtcNow,
                tagName is null ? null : TriggerTags.Prefix + tagName) { RunId = Guid.Empty.ToString() };
            // `${<stage>.artifactURLs}` and `${setup.logURL}` plan as the builder plans them with the embedded stack's setting;
            // the report shows artifactURLs as written.
            var options = PlanningOptions.Default with { Pipelines = names, ArtifactBaseUrl = "http://127.0.0.1:8080" };
            return PlanReport.Run(directory, context, options, Console.Out, Console.Error);
        });
        return command;
    }
}
