namespace Slipway.Pipeline.Planning;

/// <summary>
/// PipelineLib's own checks on a chosen pipeline (<c>Pipeline.validate</c>), run before anything is planned and
/// reported together, in its wording, as <c>Pipeline configuration validation failed:</c> and one <c> - </c> line each.
/// </summary>
public static class PipelineValidator
{
    /// <summary>Actions WMF's jobs allow on every pipeline (name is always allowed).</summary>
    public static readonly IReadOnlyList<string> PreMergeActions = ["build", "copy", "exports", "notify", "run"];

    /// <summary>Actions allowed post-merge (gate-and-submit, postmerge, post, publish).</summary>
    public static readonly IReadOnlyList<string> AllActions = [.. PreMergeActions, "deploy", "promote", "publish", "trigger"];

    public static IReadOnlyList<string> Validate(PipelineDefinition pipeline, IReadOnlyCollection<string> allowedActions)
    {
        var errors = new List<string>();
        var names = pipeline.Stages.Select(s => s.Name).ToList();
        var arcs = ExecutionArcs(pipeline, out var shapeOk);
        if (shapeOk && arcs is not null) names.AddRange(arcs.SelectMany(a => a));
        foreach (var reserved in new[] { "setup", "teardown" })
            if (names.Contains(reserved)) errors.Add($"{reserved} is a reserved stage name");
        if (!shapeOk) errors.Add("`execution` graph must be a list of lists (graph branches)");
        else if (arcs is not null)
        {
            foreach (var n in arcs.SelectMany(a => a).Distinct())
                if (!PipelineConfigParser.NamePattern().IsMatch(n) || n.Length > 100)
                    errors.Add($"`execution` names an invalid stage name `{n}` (letters, digits, '.', '_' and '-', at most 100 characters)");
            for (var i = 0; i < arcs.Count; i++)
                if (arcs[i].Count == 0) errors.Add($"`execution` branch {i + 1} is empty");
                else if (arcs[i].Distinct().Count() != arcs[i].Count) errors.Add($"`execution` branch {i + 1} names a stage more than once");
        }
        foreach (var stage in pipeline.Stages)
            foreach (var action in stage.Actions())
                if (!allowedActions.Contains(action))
                    errors.Add($"stage `{stage.Name}` contains an action (`{action}`) that is not allowed by this pipeline");
        return errors;
    }

    public static string Format(IEnumerable<string> errors) =>
        "Pipeline configuration validation failed:" + string.Concat(errors.Select(e => "\n - " + e));

    /// <summary>The arcs of <c>execution</c>, or null when absent; <paramref name="shapeOk"/> is false unless it is a list of lists of names.</summary>
    public static IReadOnlyList<IReadOnlyList<string>>? ExecutionArcs(PipelineDefinition pipeline, out bool shapeOk)
    {
        shapeOk = true;
        if (pipeline.Execution is null or ConfigScalar { Value: null }) return null;
        if (pipeline.Execution is not ConfigList outer || outer.Items.Any(i => i is not ConfigList l || l.Items.Any(n => n is not ConfigScalar { Value: string })))
        {
            shapeOk = false;
            return null;
        }
        return outer.Items.Select(i => (IReadOnlyList<string>)((ConfigList)i).Items.Select(n => (string)((ConfigScalar)n).Value!).ToList()).ToList();
    }
}
