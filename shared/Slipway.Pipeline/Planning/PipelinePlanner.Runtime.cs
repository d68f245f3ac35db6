using Slipway.Contracts;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// Runtime outputs (PipelineLib's <c>${lint.output}</c>, <c>${publish.imageTag}</c>, ...) in the fields the performing
/// service resolves at run time: <c>run.arguments</c>, <c>run.env</c>, <c>copy</c>'s <c>source</c> and <c>destination</c>,
/// <c>trigger.parameters</c>, <c>build.excludes</c>,
/// <c>publish.image</c>'s name, tag and tags, and <c>notify.email</c>'s recipients, subject and body. The interpolator already applied PipelineLib's ancestor rule and refused names no step binds; here
/// each reference is mapped to the step whose result holds it, and the outputs Slipway has no value for are refused.
/// </summary>
internal sealed partial class PipelinePlanner
{
    /// <summary>
    /// Interpolates a field that may hold runtime values (checked by <see cref="RuntimeFields.Add"/>); a whole runtime value
    /// where a list or mapping belongs (<paramref name="text"/> false) is refused.
    /// </summary>
    private static ConfigValue Container(string field, int line, Func<ConfigValue> interpolate, bool text = false)
    {
        var v = Interpolated(field, line, interpolate);
        return !text && v is ConfigRuntime or ConfigTemplate ? throw RuntimeRefused(field, FindRuntime(v)!.Reference, line) : v;
    }

    /// <summary>
    /// The templates of one step's (or notice's) fields, by field key. <paramref name="artifactBaseUrl"/> is the operator's
    /// <see cref="PlanningOptions.ArtifactBaseUrl"/>, which <c>artifactURLs</c> needs; <paramref name="artifactStep"/> names
    /// the run step whose result lists a stage's archived copies (<see cref="ArtifactStepOf"/>).
    /// </summary>
    private sealed class RuntimeFields(string? artifactBaseUrl, Func<string, string, int, string> artifactStep)
    {
        private readonly Dictionary<string, RuntimeTemplate> _fields = new(StringComparer.Ordinal);

        public IReadOnlyDictionary<string, RuntimeTemplate>? OrNull => _fields.Count > 0 ? _fields : null;

        /// <summary>
        /// The field's text as the plan shows it (runtime values as written, <c>${stage.name}</c>); a field holding runtime
        /// values also gets its template under <paramref name="key"/>.
        /// </summary>
        public string Add(string key, ConfigValue value, int line, string? field = null)
        {
            field ??= key;
            IReadOnlyList<ConfigValue> parts;
            switch (value)
            {
                case ConfigRuntime r: parts = [r]; break;
                case ConfigTemplate t: parts = t.Parts; break;
                default:
                    // A list or mapping is printed into the field as Groovy prints it: a runtime value inside cannot be.
                    if (FindRuntime(value) is { } nested) throw RuntimeRefused(field, nested.Reference, line);
                    return value.Render();
            }
            _fields[key] = Template(field, parts, line);
            return value.Render();
        }

        /// <summary>The template of <paramref name="parts"/>; text holding <see cref="Interpolator.LocalMark"/>ed names gets local parts.</summary>
        public RuntimeTemplate Template(string field, IReadOnlyList<ConfigValue> parts, int line)
        {
            var result = new List<RuntimeTemplatePart>();
            foreach (var p in parts)
            {
                if (p is ConfigRuntime r)
                {
                    result.Add(new RuntimeTemplatePart { Output = Reference(field, r, line) });
                    continue;
                }
                // Odd pieces between marks are variable names (a name cannot hold the mark), even ones literal text.
                var pieces = p.Render().Split(Interpolator.LocalMark);
                for (var i = 0; i < pieces.Length; i++)
                {
                    if (i % 2 == 1) result.Add(new RuntimeTemplatePart { Local = pieces[i] });
                    else if (pieces[i].Length > 0) result.Add(new RuntimeTemplatePart { Text = pieces[i] });
                }
            }
            if (result.Count == 0) result.Add(new RuntimeTemplatePart { Text = "" });
            if (result.Count > RuntimeTemplate.MaxParts)
                throw new PipelineConfigException($"`{field}` has more than {RuntimeTemplate.MaxParts} parts", line);
            return new RuntimeTemplate { Parts = result };
        }

        /// <summary>A deferred comprehension's template; its yield must be text (PipelineLib's items become strings here).</summary>
        public RuntimeComprehension Comprehension(string field, (IReadOnlyList<string> Each, string Delimiter, ConfigValue In, ConfigValue Yield) c, int line)
        {
            static IReadOnlyList<ConfigValue> Parts(ConfigValue v) => v switch
            {
                ConfigRuntime r => [r],
                ConfigTemplate t => t.Parts,
                ConfigScalar => [v],
                _ => throw new PipelineConfigException($"a `$yield` over a runtime `$in` must be a string, not a {v.TypeName}", v.Line),
            };
            if (c.Each.Count > 16) throw new PipelineConfigException($"`{field}`: `$each` names more than 16 variables", line);
            if (c.Delimiter.Length > 64) throw new PipelineConfigException($"`{field}`: `$delimiter` is longer than 64 characters", line);
            return new RuntimeComprehension
            {
                Each = c.Each, Delimiter = c.Delimiter,
                In = Template(field, Parts(c.In), line), Yield = Template(field, Parts(c.Yield), line),
            };
        }

        private RuntimeOutputReference Reference(string field, ConfigRuntime r, int line)
        {
            var step = r.Key switch
            {
                "output" => $"{r.Stage}-run",
                // The links are made from the run step's copy entries and the files its `test.succeeded` lists.
                "artifactURLs" => artifactBaseUrl is not null ? artifactStep(r.Stage, field, line)
                    : throw new PipelineConfigException($"`{field}` uses `${{{r.Reference}}}`, and the operator has not set " +
                        "Pipeline:ArtifactBaseUrl (the reporter's public URL, which the artifact links start with), so Slipway has no link to give", line),
                "imageID" or "imageLocalName" => $"{r.Stage}-build",
                "imageName" or "imageFullName" or "imageTag" or "imageTags" or "publishedImage" => $"{r.Stage}-publish",
                "container" => throw new PipelineConfigException($"`{field}` uses `${{{r.Reference}}}`: Slipway keeps no container " +
                    "after a run step (the tester removes it once the step and its `copy` are done), so there is no container name to use", line),
                "releaseName" => throw new PipelineConfigException($"`{field}` uses `${{{r.Reference}}}`: not supported; PipelineLib's value " +
                    "is the random name of a throwaway Helm release it purged at the pipeline's end, while Slipway's `deploy` rolls out a " +
                    "named service that outlives the run, so there is no such release to name", line),
                _ => throw new PipelineConfigException($"`{field}` uses `${{{r.Reference}}}`, which Slipway does not produce as a value", line),
            };
            return new RuntimeOutputReference
            {
                Stage = r.Stage, Name = r.Key, Step = step, Default = r.Default, ArtifactBaseUrl = r.Key == "artifactURLs" ? artifactBaseUrl : null,
            };
        }
    }
}
