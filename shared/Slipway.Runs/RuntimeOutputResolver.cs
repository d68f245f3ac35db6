using System.Text;
using System.Text.Json;
using Slipway.Contracts;

namespace Slipway.Runs;

/// <summary>
/// Resolves a plan's <see cref="RuntimeTemplate"/> (PipelineLib's runtime outputs) from the run's recorded step results,
/// as PipelineLib's <c>PipelineStage</c> bound them: <c>output</c> is the run step's last <c>tail</c> lines followed by a
/// line break (empty when the step kept no tail), <c>imageID</c> the built image's id without <c>sha256:</c>,
/// <c>imageLocalName</c> the image's local name in this run, <c>imageName</c>/<c>imageFullName</c>/<c>imageTag</c>/
/// <c>imageTags</c>/<c>publishedImage</c> what the publish step pushed, <c>artifactURLs</c> one reporter link per <c>copy</c>
/// entry (<see cref="ArtifactLinks"/>). Pure: the caller passes the results. A resolved
/// value is text, never interpolated again, at most <see cref="RuntimeTemplate.MaxResolvedChars"/> characters and without
/// NUL characters.
/// </summary>
public static class RuntimeOutputResolver
{
    /// <summary>The value of field <paramref name="key"/>: its template resolved when it has one, else <paramref name="plain"/>.</summary>
    /// <exception cref="RuntimeOutputException">A referenced result is missing (<paramref name="missingAsEmpty"/> false), or the value is too long.</exception>
    public static string Field(string plain, string key, IReadOnlyDictionary<string, RuntimeTemplate>? runtime, RunState run, bool missingAsEmpty = false) =>
        runtime is not null && runtime.TryGetValue(key, out var template) ? Resolve(template, key, run, missingAsEmpty) : plain;

    /// <summary>Resolves <paramref name="template"/> from <paramref name="run"/>'s recorded step results.</summary>
    public static string Resolve(RuntimeTemplate template, string field, RunState run, bool missingAsEmpty = false) =>
        Resolve(template, field, run.RunId, run.Started.Plan, step => run.Steps.TryGetValue(step, out var r) ? r.Data : null, missingAsEmpty);

    /// <summary>
    /// Resolves <paramref name="template"/>: <paramref name="results"/> gives a step's finishing event data (null when it
    /// has none). A missing result is an error unless <paramref name="missingAsEmpty"/> (a failure notice, whose stage
    /// may have stopped before the step ran), then it is empty.
    /// </summary>
    public static string Resolve(RuntimeTemplate template, string field, string runId, RunPlan plan, Func<string, JsonElement?> results, bool missingAsEmpty = false) =>
        Resolve(template, field, runId, plan, results, missingAsEmpty, locals: null);

    /// <summary>
    /// PipelineLib's <c>$each</c>/<c>$in</c>/<c>$yield</c> over a runtime output, expanded now: the resolved input split on
    /// any delimiter character (Groovy's tokenize: empty tokens dropped), each token bound to the variable (several:
    /// split on spaces, PipelineLib refuses too few values), the yield resolved per token.
    /// </summary>
    /// <exception cref="RuntimeOutputException">A referenced result is missing, too many items, too few values, or too long.</exception>
    public static IReadOnlyList<string> Expand(RuntimeComprehension comprehension, string field, RunState run) =>
        Expand(comprehension, field, run.RunId, run.Started.Plan, step => run.Steps.TryGetValue(step, out var r) ? r.Data : null);

    /// <inheritdoc cref="Expand(RuntimeComprehension, string, RunState)"/>
    public static IReadOnlyList<string> Expand(RuntimeComprehension comprehension, string field, string runId, RunPlan plan, Func<string, JsonElement?> results)
    {
        var input = Resolve(comprehension.In, field, runId, plan, results);
        var tokens = input.Split(comprehension.Delimiter.ToCharArray(), StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length > RuntimeComprehension.MaxItems)
            throw new RuntimeOutputException($"`{field}`: the list comprehension yields more than {RuntimeComprehension.MaxItems} items");
        var items = new List<string>(tokens.Length);
        var total = 0;
        foreach (var token in tokens)
        {
            var locals = new Dictionary<string, string>(StringComparer.Ordinal);
            if (comprehension.Each.Count == 1) locals[comprehension.Each[0]] = token;
            else
            {
                var values = token.Split(' ');
                if (values.Length < comprehension.Each.Count)
                    throw new RuntimeOutputException(
                        $"`{field}`: insufficient number of values given ([{string.Join(", ", values)}]) to bind to variables ([{string.Join(", ", comprehension.Each)}])");
                for (var i = 0; i < comprehension.Each.Count; i++) locals[comprehension.Each[i]] = values[i];
            }
            var item = Resolve(comprehension.Yield, field, runId, plan, results, missingAsEmpty: false, locals);
            total += item.Length;
            if (total > RuntimeTemplate.MaxResolvedChars)
                throw new RuntimeOutputException($"`{field}`: the expanded list is longer than {RuntimeTemplate.MaxResolvedChars} characters");
            items.Add(item);
        }
        return items;
    }

    private static string Resolve(RuntimeTemplate template, string field, string runId, RunPlan plan, Func<string, JsonElement?> results, bool missingAsEmpty,
        IReadOnlyDictionary<string, string>? locals)
    {
        var sb = new StringBuilder();
        foreach (var part in template.Parts)
        {
            if (part.Local is { } local)
                sb.Append(locals is not null && locals.TryGetValue(local, out var bound) ? bound
                    : throw new RuntimeOutputException($"`{field}`: `${{.{local}}}` is bound only inside a list comprehension"));
            else if (part.Output is { } reference)
            {
                var value = Value(reference, runId, plan, results, out var found);
                if (!found && !missingAsEmpty)
                    throw new RuntimeOutputException($"`{field}`: `${{{reference.Stage}.{reference.Name}}}` has no value: step `{reference.Step}` recorded no result for it");
                // PipelineLib's `${x|default}`: the default replaces an empty value (Groovy's `?:`).
                sb.Append(value.Length == 0 && reference.Default is { } dflt ? dflt : value);
            }
            else sb.Append(part.Text);
            if (sb.Length > RuntimeTemplate.MaxResolvedChars)
                throw new RuntimeOutputException($"`{field}`: the resolved value is longer than {RuntimeTemplate.MaxResolvedChars} characters");
        }
        var resolved = sb.ToString();
        if (resolved.Contains('\0')) throw new RuntimeOutputException($"`{field}`: the resolved value contains a NUL character");
        return resolved;
    }

    private static string Value(RuntimeOutputReference r, string runId, RunPlan plan, Func<string, JsonElement?> results, out bool found)
    {
        found = false;
        var data = results(r.Step);
        if (data is not { ValueKind: JsonValueKind.Object } d) return "";
        string? text;
        switch (r.Name)
        {
            case "output":
                // PipelineLib: `tail` lines joined by "\n" plus a final "\n"; nothing at all when the step kept no tail.
                found = true;
                var tail = plan.Stages.SelectMany(s => s.Steps).FirstOrDefault(s => s.Name == r.Step)?.Run?.Tail ?? 0;
                return tail > 0 ? (String(d, "outputTail") ?? "") + "\n" : "";
            case "artifactURLs":
                // Bound only once the copy is done: a failed run step (its event has a reason) copied nothing. The step is
                // the stage's own run step, or an earlier stage's that copied for it (its `copyFor` group, its artifacts
                // marked with the stage).
                var stepStage = plan.Stages.FirstOrDefault(s => s.Steps.Any(x => x.Name == r.Step));
                var step = stepStage?.Steps.First(x => x.Name == r.Step);
                var run = step?.Run;
                var own = stepStage?.Name == r.Stage;
                var copies = (own ? run?.Copy : run?.CopyFor?.FirstOrDefault(g => g.Stage == r.Stage)?.Copy) ?? [];
                // Destinations holding runtime outputs, as the tester resolved them when it copied (own entries only).
                if (own && step is not null) copies = RunCopyResolver.Resolve(step, copies, runId, plan, results);
                text = r.ArtifactBaseUrl is { } baseUrl && !d.TryGetProperty("reason", out _)
                    ? ArtifactLinks.Of(baseUrl, runId, r.Stage, copies, ArchivedPaths(d, own ? null : r.Stage)) : null;
                break;
            case "imageID":
                text = String(d, "imageId");
                if (text is not null && text.StartsWith("sha256:", StringComparison.Ordinal)) text = text["sha256:".Length..];
                break;
            case "imageLocalName":
                text = String(d, "imageRef");
                break;
            case "imageName":
                text = String(d, "name");
                break;
            case "imageFullName":
                text = Image(d) is { } uri ? String(uri, "uri") : null;
                break;
            case "imageTag":
                text = String(d, "tag");
                break;
            case "publishedImage":
                text = Image(d) is { } img && String(img, "uri") is { } u && String(d, "tag") is { } t ? $"{u}:{t}" : null;
                break;
            case "imageTags":
                // A list, printed into a string as Groovy prints it.
                text = Image(d) is { } i && i.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array
                    ? "[" + string.Join(", ", tags.EnumerateArray().Select(x => x.GetString())) + "]"
                    : null;
                break;
            default:
                text = null;
                break;
        }
        found = text is not null;
        return text ?? "";
    }

    // The paths `test.succeeded` lists under `artifacts` for one stage: the step's own (no `stage`), or a later stage's.
    private static HashSet<string> ArchivedPaths(JsonElement d, string? forStage)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        if (d.TryGetProperty("artifacts", out var list) && list.ValueKind == JsonValueKind.Array)
            foreach (var a in list.EnumerateArray())
                if (a.ValueKind == JsonValueKind.Object && String(a, "path") is { } path && String(a, "stage") == forStage) paths.Add(path);
        return paths;
    }

    private static JsonElement? Image(JsonElement d) =>
        d.TryGetProperty("image", out var image) && image.ValueKind == JsonValueKind.Object ? image : null;

    private static string? String(JsonElement d, string name) =>
        d.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

/// <summary>A runtime output could not be resolved: the step that uses it fails with this message.</summary>
public sealed class RuntimeOutputException(string message) : Exception(message);
