using Slipway.Contracts;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// One PipelineLib pipeline → a <see cref="RunPlan"/>: stages walked in the execution graph's topological order
/// so that <c>${...}</c> sees exactly what PipelineLib's <c>ExecutionContext</c> would, each stage's steps in
/// PipelineLib's fixed order (build, run, copy, publish, promote, deploy, exports, trigger).
/// </summary>
internal sealed partial class PipelinePlanner(PipelineDefinition pipeline, BlubberFiles files, PlanningContext context, PlanningOptions options)
{
    private static readonly string[] PublishOutputs = ["imageName", "imageFullName", "imageTag", "imageTags", "publishedImage"];

    private readonly BindingStore _store = new();
    private const int MaxExcludes = 1000;

    private readonly HashSet<string> _stepNames = new(StringComparer.Ordinal);
    private readonly List<string> _notes = [];
    private ExecutionGraph _graph = null!;
    private string _directory = ".";

    private string Timestamp => context.Now.UtcDateTime.ToString("yyyy-MM-dd-HHmmss", System.Globalization.CultureInfo.InvariantCulture);

    public RunPlan Plan()
    {
        try
        {
            return PlanUnchecked();
        }
        catch (PipelineConfigException e)
        {
            throw new PipelineConfigException($"pipeline `{pipeline.Name}`: {e.Message}", e.Line, e.File);
        }
    }

    private RunPlan PlanUnchecked()
    {
        var arcs = PipelineValidator.ExecutionArcs(pipeline, out _) ?? [pipeline.Stages.Select(s => s.Name).ToList()];
        _graph = ExecutionGraph.FromArcs(arcs);
        var frames = _graph.Stack();
        if (pipeline.Directory is { } dir)
            _directory = RepoPath.Resolve(".", dir.Render(), out var err) ?? throw new PipelineConfigException($"`directory` {err}", dir.Line);
        BindSetup();

        var planned = new Dictionary<string, PlanStage>(StringComparer.Ordinal);
        foreach (var frame in frames)
            foreach (var name in frame)
            {
                var defined = pipeline.Stages.FirstOrDefault(s => s.Name == name);
                try
                {
                    // A node named only in `execution` is an empty stage: no shorthand defaults.
                    planned[name] = PlanStage(defined ?? new StageDefinition(name, 0), defined is not null);
                }
                catch (PipelineConfigException e)
                {
                    throw new PipelineConfigException($"stage `{name}`: {e.Message}", e.Line == 0 && e.File is null ? defined?.Line ?? 0 : e.Line, e.File);
                }
            }

        AttachCopiesFromEarlierStages(planned);

        // Declaration order, then the stages only `execution` names; stages outside the graph never run.
        var order = pipeline.Stages.Select(s => s.Name).Where(planned.ContainsKey)
            .Concat(_graph.Nodes.Where(n => pipeline.Stages.All(s => s.Name != n))).ToList();
        return new RunPlan
        {
            Pipeline = pipeline.Name,
            ConfigPath = PipelineConfig.DefaultPath,
            Stages = order.Select(n => planned[n]).ToList(),
            Graph = order.Select(n => new PlanGraphNode { Stage = n, DependsOn = _graph.Predecessors(n).ToList() }).ToList(),
            Notes = _notes.Count > 0 ? _notes : null,
            Submodules = pipeline.Fetch.Submodules && SubmoduleFile.Exists(files) ? true : null,
            FetchDepth = CheckoutDepth(pipeline.Fetch),
            FetchTags = pipeline.Fetch.Tags ? true : null,
        };
    }

    /// <summary>The checkout's depth as Jenkins' shallow clone took it (at least 1); 0 unshallow; null PipelineLib's default of 20.</summary>
    private static int? CheckoutDepth(FetchOptions fetch) =>
        !fetch.Shallow ? 0 : Math.Max(fetch.Depth, 1) is var depth && depth != new FetchOptions().Depth ? depth : null;

    private void BindSetup()
    {
        void Str(string key, string value) => _store.Bind("setup", key, new ConfigScalar(value, 0));
        Str("pipeline", pipeline.Name);
        Str("project", context.Project);
        Str("projectShortName", Names.ProjectShortName(context.Project));
        Str("commit", context.Revision);
        var branch = context.Branch ?? "";
        var localBranch = branch.StartsWith("refs/heads/", StringComparison.Ordinal) ? branch["refs/heads/".Length..] : branch;
        Str("branch", localBranch);
        Str("remote", context.Remote ?? "");
        // Jenkins' BUILD_URL console: the run's status page on the reporter.
        Str("logURL", options.ArtifactBaseUrl is { } reporter && context.RunId is { } runId ? RunLinks.StatusPage(reporter, runId) : "");
        // The Jenkins git plugin's checkout variables, which PipelineLib binds under their own names.
        Str("GIT_COMMIT", context.Revision);
        Str("GIT_URL", context.Remote ?? "");
        Str("GIT_BRANCH", localBranch.Length > 0 ? "origin/" + localBranch : "");
        Str("GIT_LOCAL_BRANCH", localBranch);
        Str("tag", ReleaseBranches.ShortTag(context.Tag ?? ""));
        Str("timestamp", Timestamp);
        _store.Bind("setup", "imageLabels", new ConfigMap(
        [
            new ConfigEntry("ci.project", 0, new ConfigScalar(context.Project, 0)),
            new ConfigEntry("ci.pipeline", 0, new ConfigScalar(pipeline.Name, 0)),
            new ConfigEntry("zuul.commit", 0, new ConfigScalar(context.Revision, 0)),
        ], 0));
        foreach (var (k, v) in options.Params ?? new Dictionary<string, string>()) Str("params." + k, v);
    }

    private PlanStage PlanStage(StageDefinition stage, bool defined)
    {
        var s = stage.Name;
        var interp = new Interpolator(_store, _graph, s, options.Limits);
        _store.Bind(s, "stage", new ConfigScalar(s, 0));
        var steps = new List<PlanStep>();
        var build = stage.Build;
        var run = stage.Run;
        if (defined && stage.IsShorthand)
        {
            build = new ConfigScalar("${.stage}", stage.Line);
            run = new ConfigScalar(true, stage.Line);
        }

        if (build is { IsTruthy: true }) steps.Add(Build(stage, build, interp));
        if (run is { IsTruthy: true }) steps.Add(Run(s, run, interp));
        if (stage.Copy is { IsTruthy: true })
        {
            // Done by the tester right after the run step succeeds, so it travels with that step.
            var runStep = steps.FirstOrDefault(x => x.Kind == StepKind.Test);
            var (copies, copyRuntime) = Copy(s, stage.Copy, runStep is not null, interp);
            if (copies.Count > 0)
                steps[steps.IndexOf(runStep!)] = runStep! with
                {
                    Run = runStep!.Run! with { Copy = copies },
                    Runtime = copyRuntime is null ? runStep.Runtime
                        : (runStep.Runtime ?? new Dictionary<string, RuntimeTemplate>()).Concat(copyRuntime).ToDictionary(StringComparer.Ordinal),
                };
        }
        if (stage.Publish is ConfigMap { } pub && pub.Get("image") is { IsTruthy: true } image && Publish(s, image, interp) is { } publish)
            steps.Add(publish);
        if (stage.Promote is { IsTruthy: true }) steps.AddRange(Promote(s, stage.Promote, interp));
        if (stage.Deploy is { IsTruthy: true }) steps.Add(Deploy(s, (ConfigMap)stage.Deploy, interp));
        if (stage.Exports is ConfigMap exports)
            foreach (var e in exports.Entries)
                _store.Bind(s, e.Key, Field($"exports.{e.Key}", e.Value.Line, () => interp.Interpolate(e.Value), allowWholeRuntime: true));
        if (stage.Trigger is ConfigMap { } trigger) steps.Add(Trigger(s, trigger, interp));
        var notify = Notify(stage, interp);

        foreach (var step in steps)
            if (!_stepNames.Add(step.Name)) throw new PipelineConfigException($"step name `{step.Name}` is used twice in the plan");
        return new PlanStage { Name = s, Steps = steps, Notify = notify };
    }

    private PlanStep Build(StageDefinition stage, ConfigValue build, Interpolator interp)
    {
        var s = stage.Name;
        // build.excludes may hold runtime outputs (PipelineLib interpolates it when the stage runs): taken apart from the rest.
        var rawExcludes = (build as ConfigMap)?.Get("excludes");
        var rest = build is ConfigMap bm && rawExcludes is not null ? bm with { Entries = bm.Entries.Where(e => e.Key != "excludes").ToList() } : build;
        var value = Field("build", build.Line, () => interp.Interpolate(rest));
        string variant, context = ".";
        IReadOnlyList<string>? excludes = null;
        RuntimeComprehension? excludesEach = null;
        var runtime = new RuntimeFields(options.ArtifactBaseUrl, ArtifactStepOf);
        if (value is ConfigMap m)
        {
            // Groovy's ?: on the written values (PipelineLib's defaultConfig runs before interpolation).
            var written = build as ConfigMap;
            variant = m.Get("variant") is { } v && written?.Get("variant") is not { IsTruthy: false } ? Text(v, "build.variant") : s;
            if (m.Get("context") is { } c && written?.Get("context") is not { IsTruthy: false }) context = Text(c, "build.context");
            if (rawExcludes is not null && rawExcludes is not ConfigScalar { Value: null }) (excludes, excludesEach) = Excludes(rawExcludes, interp, runtime);
            // imagePullPolicy: accepted and ignored; the builder's policy decides when base images are pulled.
        }
        else variant = Text(value, "build");
        if (variant.Length == 0) throw new PipelineConfigException("`build.variant` is empty", build.Line);

        var blubberRaw = stage.Blubberfile ?? pipeline.Blubberfile ?? new ConfigScalar($"{pipeline.Name}/blubber.yaml", stage.Line);
        var blubberValue = Field("blubberfile", blubberRaw.Line, () => interp.Interpolate(blubberRaw));
        string blubberfile;
        string? inline = null;
        string? err;
        if (blubberValue is ConfigMap inlineConfig)
        {
            inline = InlineBlubber.ToText(inlineConfig);
            blubberfile = InlineBlubber.NameFor(pipeline.Name, s);
            files.AddInline(blubberfile, inline);
        }
        else
        {
            var blubberPath = Text(blubberValue, "blubberfile");
            blubberfile = RepoPath.Resolve(".pipeline", blubberPath, out err)
                ?? throw new PipelineConfigException($"`blubberfile` {err}", blubberRaw.Line);
        }
        var contextPath = RepoPath.Resolve(_directory, context, out err)
            ?? throw new PipelineConfigException($"`build.context` {err}", build.Line);
        string? refusal = null;
        try
        {
            files.Variant(blubberfile, variant);
        }
        catch (PipelineConfigException e)
        {
            // A refused Blubber file or variant refuses this build only: the step fails with the reason when it is due,
            // the steps that need its image never run, and every other step runs.
            refusal = e.Message;
            _notes.Add($"stage `{s}`: {e.Message}; its build fails and the steps that need its image do not run");
        }

        _store.BindRuntime(s, "imageID");
        _store.BindRuntime(s, "imageLocalName");
        return new PlanStep
        {
            Name = $"{s}-build", Kind = StepKind.Build,
            Build = new BuildParams
            {
                Variant = variant, Blubberfile = blubberfile, Context = contextPath, Excludes = excludes, ExcludesEach = excludesEach,
                Refusal = refusal, BlubberConfig = inline,
            },
            Runtime = runtime.OrNull,
        };
    }

    /// <summary>
    /// <c>build.excludes</c>: the lines of the .dockerignore that replaces the context's own for this build. One pattern
    /// per item, so a line break (which would add patterns) or another control character is refused. Items holding
    /// runtime outputs, or a <c>$each</c>/<c>$in</c> over one, are resolved by the builder when the step builds (its
    /// stage follows the referenced one), and the resolved patterns are checked the same way there.
    /// </summary>
    private static (IReadOnlyList<string>? Lines, RuntimeComprehension? Each) Excludes(ConfigValue raw, Interpolator interp, RuntimeFields runtime)
    {
        if (raw is ConfigMap each && each.Has("$each")
            && Deferred("build.excludes", each.Line, () => interp.DeferredComprehension(each)) is { } deferred)
            return (null, runtime.Comprehension("build.excludes", deferred, each.Line));
        var list = Container("build.excludes", raw.Line, () => interp.Interpolate(raw)) as ConfigList
            ?? throw new PipelineConfigException("`build.excludes` must be a list", raw.Line);
        if (list.Items.Count > MaxExcludes) throw new PipelineConfigException($"`build.excludes` has more than {MaxExcludes} patterns", raw.Line);
        var lines = new List<string>();
        for (var i = 0; i < list.Items.Count; i++)
        {
            var item = list.Items[i];
            var line = item is ConfigRuntime or ConfigTemplate ? runtime.Add($"build.excludes[{i}]", item, raw.Line) : Text(item, "build.excludes");
            if (line.Any(char.IsControl)) throw new PipelineConfigException("`build.excludes` patterns must not contain line breaks or control characters", raw.Line);
            if (line.Length > 4096) throw new PipelineConfigException("`build.excludes` patterns must be at most 4096 characters", raw.Line);
            lines.Add(line);
        }
        return (lines, null);
    }

    private PlanStep Run(string s, ConfigValue run, Interpolator interp)
    {
        var m = run as ConfigMap ?? new ConfigMap([], run.Line);
        if (m.Entries.Count > 0 && m.Entries.All(e => e.Key.StartsWith('$')))
            m = Field("run", run.Line, () => interp.Interpolate(m)) as ConfigMap ?? throw new PipelineConfigException("`run` must be a mapping or true");
        var imageFrom = ImageFrom(Elvis(m.Get("image")) ?? new ConfigScalar("${.imageID}", run.Line), "run.image", interp);

        var runtime = new RuntimeFields(options.ArtifactBaseUrl, ArtifactStepOf);
        IReadOnlyList<string>? arguments = null;
        RuntimeComprehension? argumentsEach = null;
        if (m.Get("arguments") is ConfigMap each && each.Has("$each")
            && Deferred("run.arguments", each.Line, () => interp.DeferredComprehension(each)) is { } deferred)
            argumentsEach = runtime.Comprehension("run.arguments", deferred, each.Line); // PipelineLib expands it when the stage runs
        else if (m.Get("arguments") is { } args)
        {
            var list = Container("run.arguments", args.Line, () => interp.Interpolate(args)) as ConfigList
                ?? throw new PipelineConfigException("`run.arguments` must be a list", args.Line);
            arguments = list.Items.Select((item, i) => runtime.Add($"run.arguments[{i}]", item, args.Line)).ToList();
        }
        IReadOnlyDictionary<string, string>? env = null;
        if (m.Get("env") is { } envNode)
        {
            var map = Container("run.env", envNode.Line, () => interp.Interpolate(envNode)) as ConfigMap
                ?? throw new PipelineConfigException("`run.env` must be a mapping", envNode.Line);
            env = map.Entries.ToDictionary(e => e.Key, e => runtime.Add($"run.env.{e.Key}", e.Value, e.KeyLine));
        }
        var credentials = m.Get("credentials") is { } credsNode ? Credentials(credsNode, interp) : null;
        int? tail = null;
        if (m.Get("tail") is { } tailNode)
        {
            var t = Field("run.tail", tailNode.Line, () => interp.Interpolate(tailNode));
            tail = int.TryParse(t.Render(), out var n) && n is >= 0 and <= 10_000 ? n
                : throw new PipelineConfigException("`run.tail` must be an integer from 0 to 10000", tailNode.Line);
        }
        _store.BindRuntime(s, "container");
        _store.BindRuntime(s, "output");
        return new PlanStep
        {
            Name = $"{s}-run", Kind = StepKind.Test,
            Run = new RunParams { ImageFrom = imageFrom, Arguments = arguments, ArgumentsEach = argumentsEach, Env = env, Tail = tail, Credentials = credentials },
            Runtime = runtime.OrNull,
        };
    }

    /// <summary>
    /// <c>run.credentials</c>: PipelineLib's string credentials (<c>id</c>, bound to the environment variable <c>name</c>).
    /// The plan names them only; the tester reads the values from its configuration. Given only to runs after merge and
    /// to the projects the operator allows (<c>Pipeline:Credentials:&lt;id&gt;:Projects</c>).
    /// </summary>
    private IReadOnlyList<RunCredential>? Credentials(ConfigValue node, Interpolator interp)
    {
        var list = Field("run.credentials", node.Line, () => interp.Interpolate(node)) as ConfigList
            ?? throw new PipelineConfigException("`run.credentials` must be a list", node.Line);
        if (list.Items.Count == 0) return null;
        if (list.Items.Count > MaxCredentials) throw new PipelineConfigException($"`run.credentials` has more than {MaxCredentials} items", node.Line);
        if (!ReleaseBranches.IsPostMerge(context))
            throw new PipelineConfigException("`run.credentials`: credentials are given only to runs after merge, never to a patch set's run " +
                "(run this pipeline post-merge, or leave it out of patch-set runs)", node.Line);
        var credentials = new List<RunCredential>();
        foreach (var item in list.Items)
        {
            var cm = item as ConfigMap ?? throw new PipelineConfigException("`run.credentials` items must be mappings with `id` and `name`", item.Line);
            var id = Text(cm.Get("id") ?? throw new PipelineConfigException("`run.credentials[].id` is required", item.Line), "run.credentials[].id");
            var name = Text(cm.Get("name") ?? throw new PipelineConfigException("`run.credentials[].name` is required", item.Line), "run.credentials[].name");
            var allowed = options.Credentials ?? new Dictionary<string, IReadOnlyList<string>>();
            // PipelineLib's own message for a credential the job does not allow, with the ids this project may use.
            if (!allowed.TryGetValue(id, out var projects) || !projects.Contains(context.Project, StringComparer.Ordinal))
            {
                var mine = allowed.Where(a => a.Value.Contains(context.Project, StringComparer.Ordinal)).Select(a => a.Key).Order(StringComparer.Ordinal);
                throw new PipelineConfigException($"Invalid Credential: '{Shown(id)}'. Allowed credentials for {context.Project}: " +
                    $"[{string.Join(", ", mine)}] (the operator allows them per project: Pipeline:Credentials:<id>:Projects)", item.Line);
            }
            if (!EnvName().IsMatch(name))
                throw new PipelineConfigException($"`run.credentials[].name` '{Shown(name)}' is not an environment variable name (letters, digits, '_', at most 128)", item.Line);
            if (credentials.Any(c => c.Name == name)) throw new PipelineConfigException($"`run.credentials`: the variable '{name}' is bound twice", item.Line);
            credentials.Add(new RunCredential { Id = id, Name = name });
        }
        return credentials;
    }

    private const int MaxCredentials = 32;

    private const int MaxTriggerParameters = 64;

    /// <summary>
    /// <c>notify.email</c>: the stage's keys over its pipeline's (PipelineLib merges them), with PipelineLib's default
    /// subject and body, interpolated now. The service that records a failed step of the stage emits
    /// <c>notify.requested</c> with it.
    /// </summary>
    private StageNotify? Notify(StageDefinition stage, Interpolator interp)
    {
        var own = (stage.Notify as ConfigMap)?.Get("email") as ConfigMap;
        var inherited = (pipeline.Notify as ConfigMap)?.Get("email") as ConfigMap;
        if (own is null && inherited is null) return null;
        ConfigValue? Key(string k) => own?.Get(k) ?? inherited?.Get(k);
        var line = (own ?? inherited)!.Line;
        var toNode = Key("to") ?? throw new PipelineConfigException("`notify.email.to` is required", line);
        var runtime = new RuntimeFields(options.ArtifactBaseUrl, ArtifactStepOf);
        // Recipients may come from earlier steps' outputs (PipelineLib interpolates them when the mail goes out): an entry
        // holding one is kept as written with its template under to[i]; a $each over one is expanded when the notice is made.
        RuntimeComprehension? toEach = null;
        IReadOnlyList<ConfigValue> toItems = [];
        if (toNode is ConfigMap each && each.Has("$each")
            && Deferred("notify.email.to", each.Line, () => interp.DeferredComprehension(each)) is { } deferred)
            toEach = runtime.Comprehension("notify.email.to", deferred, each.Line);
        else
        {
            var value = Container("notify.email.to", toNode.Line, () => interp.Interpolate(toNode), text: true);
            toItems = value is ConfigList list ? list.Items : [value];
        }
        var to = new List<string>();
        foreach (var item in toItems)
        {
            if (to.Count > 50) break;
            if (IsRuntime(item))
            {
                runtime.Add($"to[{to.Count}]", item, toNode.Line, "notify.email.to");
                to.Add(Written(item.Render(), "notify.email.to", toNode.Line, 254));
                continue;
            }
            // A list or mapping is printed into the field as Groovy prints it: a runtime value inside cannot be.
            if (FindRuntime(item) is { } nested) throw RuntimeRefused("notify.email.to", nested.Reference, toNode.Line);
            // PipelineLib joined the entries with ',' for Jenkins' mail step, so an entry may itself list several addresses.
            to.AddRange(item.Render().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        }
        if ((to.Count == 0 && toEach is null) || to.Count > 50 || to.Any(a => a.Length > 254 || a.Any(char.IsControl)))
            throw new PipelineConfigException("`notify.email.to` must list 1 to 50 addresses (entries may be comma-separated lists), each at most 254 characters without control characters", toNode.Line);
        var subjectNode = Key("subject") ?? new ConfigScalar("[Pipeline] ${setup.projectShortName} ${setup.pipeline}/${.stage} failed", line);
        var subject = runtime.Add("subject", Container("notify.email.subject", subjectNode.Line, () => interp.Interpolate(subjectNode), text: true), subjectNode.Line, "notify.email.subject");
        if (subject.Length > 998 || subject.Any(char.IsControl))
            throw new PipelineConfigException("`notify.email.subject` must be one line of at most 998 characters", subjectNode.Line);
        var bodyNode = Key("body") ?? new ConfigScalar(
            "Pipeline ${setup.pipeline} for project ${setup.project} failed during\nstage ${.stage}. See the log for details: ${setup.logURL}", line);
        var body = runtime.Add("body", Container("notify.email.body", bodyNode.Line, () => interp.Interpolate(bodyNode), text: true), bodyNode.Line, "notify.email.body");
        if (body.Length > 16384) throw new PipelineConfigException("`notify.email.body` must be at most 16384 characters", bodyNode.Line);
        return new StageNotify { To = to, Subject = subject, Body = body, Runtime = runtime.OrNull, ToEach = toEach };
    }

    /// <summary>
    /// <c>trigger</c>: a step that asks for the downstream job (the publisher emits <c>trigger.requested</c> and calls the
    /// operator's webhook for it). <c>wait: true</c> is refused: there is no downstream build for Slipway to wait for.
    /// </summary>
    private PlanStep Trigger(string s, ConfigMap trigger, Interpolator interp)
    {
        var m = Container("trigger", trigger.Line, () => interp.Interpolate(trigger)) as ConfigMap
            ?? throw new PipelineConfigException("`trigger` must be a mapping", trigger.Line);
        foreach (var e in m.Entries)
            if (e.Key != "parameters" && FindRuntime(e.Value) is { } r) throw RuntimeRefused($"trigger.{e.Key}", r.Reference, e.KeyLine);
        var runtime = new RuntimeFields(options.ArtifactBaseUrl, ArtifactStepOf);
        var job = Text(m.Get("name") ?? throw new PipelineConfigException("`trigger.name` is required", trigger.Line), "trigger.name");
        if (job.Length is 0 or > 128 || job.Any(char.IsControl))
            throw new PipelineConfigException("`trigger.name` must be 1 to 128 characters without control characters", trigger.Line);
        if (m.Get("wait") is { } wait && wait.Render() == "true")
            throw new PipelineConfigException("`trigger.wait: true` is refused: Slipway asks for the downstream job (an event and a webhook) but " +
                "has no downstream build to wait for", wait.Line);
        Dictionary<string, string>? parameters = null;
        if (m.Get("parameters") is { } p)
        {
            var map = p as ConfigMap ?? throw new PipelineConfigException("`trigger.parameters` must be a mapping", p.Line);
            if (map.Entries.Count > MaxTriggerParameters)
                throw new PipelineConfigException($"`trigger.parameters` has more than {MaxTriggerParameters} entries", p.Line);
            parameters = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var e in map.Entries)
            {
                var value = runtime.Add($"trigger.parameters.{e.Key}", e.Value, e.KeyLine);
                if (e.Key.Length > 128 || e.Key.Any(char.IsControl) || value.Length > 4096)
                    throw new PipelineConfigException($"`trigger.parameters.{Shown(e.Key)}`: names are at most 128 characters, values at most 4096", e.KeyLine);
                parameters[e.Key] = value;
            }
        }
        return new PlanStep
        {
            Name = $"{s}-trigger", Kind = StepKind.Trigger, Trigger = new TriggerParams { Job = job, Parameters = parameters }, Runtime = runtime.OrNull,
        };
    }

    // A repository's value in a message: one line, bounded.
    internal static string Shown(string value)
    {
        var line = new string(value.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        return line.Length > 128 ? line[..127] + "…" : line;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]{0,127}\z")]
    private static partial System.Text.RegularExpressions.Regex EnvName();

    /// <summary>The stage's publish step; null when every tag resolves empty on this run (PipelineLib pushes nothing then).</summary>
    private PlanStep? Publish(string s, ConfigValue image, Interpolator interp)
    {
        var m = image as ConfigMap ?? new ConfigMap([], image.Line);
        var imageFrom = ImageFrom(Elvis(m.Get("id")) ?? new ConfigScalar("${.imageID}", image.Line), "publish.image.id", interp);
        // name, tag and the items of tags may hold earlier steps' outputs (PipelineLib interpolates them when the stage runs):
        // the publisher resolves those, then sanitizes and checks them as it does written ones (the name against the project).
        var runtime = new RuntimeFields(options.ArtifactBaseUrl, ArtifactStepOf);
        var nameNode = Elvis(m.Get("name")) ?? new ConfigScalar("${setup.project}", image.Line);
        var nameValue = Container("publish.image.name", LineOf(nameNode, image), () => interp.Interpolate(nameNode), text: true);
        string name;
        if (IsRuntime(nameValue)) name = Written(runtime.Add("publish.image.name", nameValue, LineOf(nameNode, image)), "publish.image.name", LineOf(nameNode, image), 256);
        else
        {
            name = Names.ImagePart(Text(nameValue, "publish.image.name"));
            var project = Names.ImagePart(context.Project);
            var shortName = Names.ImagePart(Names.ProjectShortName(context.Project));
            if (name != project && name != shortName && !name.StartsWith(project + "-", StringComparison.Ordinal) && !name.StartsWith(shortName + "-", StringComparison.Ordinal))
                throw new PipelineConfigException($"image name `{name}` must match or be prefixed by the full or short project name (`{project}` or `{shortName}`)", image.Line);
        }

        var tagNode = Elvis(m.Get("tag")) ?? new ConfigScalar("${setup.timestamp}-${.stage}", image.Line);
        var tagValue = Container("publish.image.tag", LineOf(tagNode, image), () => interp.Interpolate(tagNode), text: true);
        var primaryRuntime = IsRuntime(tagValue);
        var primary = primaryRuntime
            ? Written(runtime.Add("publish.image.tag", tagValue, LineOf(tagNode, image)), "publish.image.tag", LineOf(tagNode, image), 128)
            : Names.ImagePart(Text(tagValue, "publish.image.tag"));
        RuntimeComprehension? tagsEach = null;
        IReadOnlyList<ConfigValue> tagItems;
        if (m.Get("tags") is ConfigMap each && each.Has("$each")
            && Deferred("publish.image.tags", each.Line, () => interp.DeferredComprehension(each)) is { } deferred)
        {
            // PipelineLib expands it when the stage runs: the publisher does, from the earlier steps' results.
            tagsEach = new RuntimeFields(options.ArtifactBaseUrl, ArtifactStepOf).Comprehension("publish.image.tags", deferred, each.Line);
            tagItems = [];
        }
        else
        {
            var tagsNode = Elvis(m.Get("tags")) ?? new ConfigList([new ConfigScalar("${setup.tag}", image.Line)], image.Line);
            var tagsValue = Container("publish.image.tags", LineOf(tagsNode, image), () => interp.Interpolate(tagsNode));
            tagItems = (tagsValue as ConfigList ?? throw new PipelineConfigException("`publish.image.tags` must be a list", image.Line)).Items;
        }
        // PipelineLib drops the empty tags and pushes under the rest (`publish`: `imageTags.removeAll { !it }`): with none
        // left it pushes nothing, e.g. `tag: '${setup.tag}'` (and the default `tags`) outside a tag's run. So does Slipway,
        // rather than pushing its own timestamp and SHA tags for an image the config publishes only under a tag.
        if (!primaryRuntime && primary.Length == 0 && tagsEach is null && tagItems.All(t => !IsRuntime(t) && FindRuntime(t) is null && Names.ImagePart(t.Render()).Length == 0))
        {
            if (ReleaseBranches.Releases(context, options))
                _notes.Add($"stage `{s}`: `publish.image` (line {image.Line}): every tag is empty on this run (`tag` {(m.Get("tag") is { } written ? $"`{Shown(written.Render())}`" : "default")}), so nothing is published, as PipelineLib publishes nothing then");
            return null;
        }
        if (!primaryRuntime && IsLatest(primary))
        {
            NoteLatestDropped(s, "publish.image.tag", m.Get("tag")?.Line ?? image.Line);
            primary = "";
        }
        // (tag as the plan shows it, its runtime value or null): the primary first, as PipelineLib lists it.
        var extra = new List<(string Tag, ConfigValue? Runtime)> { (primary, primaryRuntime ? tagValue : null) };
        foreach (var t in tagItems)
        {
            if (IsRuntime(t))
            {
                extra.Add((Written(t.Render(), "publish.image.tags", LineOf(t, image), 128), t));
                continue;
            }
            // A list or mapping is printed into the field as Groovy prints it: a runtime value inside cannot be.
            if (FindRuntime(t) is { } nested) throw RuntimeRefused("publish.image.tags", nested.Reference, LineOf(t, image));
            var tag = Names.ImagePart(t.Render());
            if (IsLatest(tag)) NoteLatestDropped(s, "publish.image.tags", t.Line);
            else extra.Add((tag, null));
        }
        // The publisher always pushes <timestamp>-<stage> and the commit SHA; Tags carries only what the config adds.
        var always = Names.ImagePart($"{Timestamp}-{s}");
        var tags = new List<string>();
        foreach (var (tag, value) in extra)
        {
            if (tag.Length == 0 || tag == always || tags.Contains(tag)) continue;
            if (value is not null) runtime.Add($"publish.image.tags[{tags.Count}]", value, LineOf(value, image), "publish.image.tags");
            tags.Add(tag);
        }

        foreach (var key in PublishOutputs) _store.BindRuntime(s, key);
        return new PlanStep
        {
            Name = $"{s}-publish", Kind = StepKind.Publish,
            Publish = new PublishParams
            {
                ImageFrom = imageFrom, Name = name, Tags = tags.Count > 0 ? tags : null, Tag = primary.Length > 0 ? primary : null, TagsEach = tagsEach,
            },
            Runtime = runtime.OrNull,
        };
    }

    private static bool IsRuntime(ConfigValue v) => v is ConfigRuntime or ConfigTemplate;

    /// <summary>
    /// A written value as Groovy's <c>?:</c> keeps it: PipelineLib's <c>defaultConfig</c> gives a field its default when
    /// the written value is false in Groovy (absent, null, <c>''</c>, <c>[]</c>), before interpolation (<c>run.image</c>,
    /// <c>publish.image</c>'s <c>id</c>, <c>name</c>, <c>tag</c>, <c>tags</c>, <c>deploy</c>'s <c>image</c>, <c>tag</c> and <c>chart.name</c>; <c>build</c>'s
    /// <c>variant</c> and <c>context</c> likewise); null here means "take the default".
    /// </summary>
    private static ConfigValue? Elvis(ConfigValue? written) => written is { IsTruthy: true } ? written : null;

    private static int LineOf(ConfigValue v, ConfigValue fallback) => v.Line > 0 ? v.Line : fallback.Line;

    /// <summary>A field holding runtime outputs, as the plan shows it (references as written), within its contract's length.</summary>
    private static string Written(string text, string field, int line, int max) => text.Length <= max ? text
        : throw new PipelineConfigException($"`{field}` is longer than {max} characters as written", line);

    /// <summary>Compared as the publisher sanitizes a tag (trimmed, lower case).</summary>
    private static bool IsLatest(string tag) => tag.Trim() == "latest";

    /// <summary>
    /// Stricter than PipelineLib, by design: <c>latest</c> is never pushed (the publisher refuses it too), since it names
    /// no particular build: what runs under it cannot be traced to its commit or rolled back to. The tag is left out
    /// and the rest of the publish runs as written (the timestamp and SHA tags are always pushed); the plan's note says
    /// so in Gerrit and in <c>slipway plan</c>. Before, the publish step failed after the tests had passed. Only where
    /// the publish happens (a release branch's merge or update): elsewhere nothing is published and the note would mislead.
    /// </summary>
    private void NoteLatestDropped(string stage, string field, int line)
    {
        if (!ReleaseBranches.Releases(context, options)) return;
        _notes.Add($"stage `{stage}`: `{field}` (line {line}): the tag `latest` is not pushed: it names no particular build (every published image is tagged `<timestamp>-<stage>` and with its commit SHA)");
    }

    private IEnumerable<PlanStep> Promote(string s, ConfigValue promote, Interpolator interp)
    {
        var items = promote is ConfigScalar { Value: true }
            ? [new ConfigMap([], promote.Line)]
            : (PromoteValue(promote, interp) as ConfigList
               ?? throw new PipelineConfigException("`promote` must be true or a list", promote.Line)).Items;
        // Each item's version defaults to ${.imageTag}: the stage must publish first, as PipelineLib would find out.
        Field("promote.version", promote.Line, () => interp.InterpolateString("${.imageTag}", promote.Line), allowWholeRuntime: true);
        var steps = new List<PlanStep>();
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i] as ConfigMap ?? throw new PipelineConfigException($"`promote[{i}]` must be a mapping", items[i].Line);
            var written = promote is ConfigList { } raw && raw.Items.Count == items.Count ? raw.Items[i] as ConfigMap : null; // `chart ?: …`, before interpolation
            var chart = Text((written?.Get("chart") is { IsTruthy: false } ? null : item.Get("chart")) ?? Field("promote.chart", item.Line, () => interp.InterpolateString("${setup.projectShortName}")), $"promote[{i}].chart");
            var environments = item.Get("environments") is { } envs
                ? (envs as ConfigList ?? throw new PipelineConfigException($"`promote[{i}].environments` must be a list", envs.Line)).Items.Select(e => e.Render()).ToList()
                : [];
            if (ServiceOwnership.Refusal(context.Project, Names.Service(chart), options.ServiceOwners, $"promote[{i}].chart") is { } refusal)
                throw new PipelineConfigException(refusal, item.Line);
            // Promoting writes the environment's configuration: an environment that needs approval waits for it like a deploy.
            var approval = environments.Where(options.RequiresApproval).Distinct().ToList();
            steps.Add(new PlanStep
            {
                Name = i == 0 ? $"{s}-promote" : $"{s}-promote-{i + 1}", Kind = StepKind.Promote,
                Promote = new PromoteParams
                {
                    Chart = chart, Environments = environments, RequiresApprovalFor = approval.Count > 0 ? approval : null,
                    ImageFrom = $"{s}-publish", // PipelineLib's version `${.imageTag}`: this stage's own publish (checked above)
                },
            });
        }
        return steps;
    }

    /// <summary>
    /// <c>promote</c> interpolated. Runtime outputs in it are refused for safety: which charts and environments a run changes
    /// (and whether an approver must say yes first) is fixed in the plan the approver sees.
    /// </summary>
    private static ConfigValue PromoteValue(ConfigValue promote, Interpolator interp)
    {
        var v = Interpolated("promote", promote.Line, () => interp.Interpolate(promote));
        return FindRuntime(v) is { } r
            ? throw RuntimeRefused("promote", r.Reference, promote.Line, "which charts and environments a run changes, and whether an approver " +
                "must agree first, are fixed in the plan the approver sees, and an earlier step's output is made by the run's own code")
            : v;
    }

    private PlanStep Deploy(string s, ConfigMap deploy, Interpolator interp)
    {
        // The deployer rolls out the image this run published: image and tag must name publish outputs of one stage,
        // whose publish step the deployer then takes the image from (PipelineLib's `${<stage>.imageName}`, default this stage's).
        var publishers = new List<string>();
        foreach (var (key, dflt, ok) in new[] { ("image", "${.imageName}", new[] { "imageName", "imageFullName", "publishedImage" }), ("tag", "${.imageTag}", new[] { "imageTag" }) })
        {
            var raw = Elvis(deploy.Get(key)) ?? new ConfigScalar(dflt, deploy.Line);
            var line = raw.Line > 0 ? raw.Line : deploy.Line;
            var v = PublishReference($"deploy.{key}", raw, line, s, interp);
            if (v is not ConfigRuntime r || !ok.Contains(r.Key))
                throw new PipelineConfigException($"`deploy.{key}` must be the image published in this run (`{dflt}`); Slipway deploys only images it published", line);
            publishers.Add(r.Stage);
        }
        if (publishers[0] != publishers[1])
            throw new PipelineConfigException(
                $"`deploy.image` names stage `{publishers[0]}`'s published image but `deploy.tag` names stage `{publishers[1]}`'s: both must name the same published image",
                deploy.Get("tag")?.Line is > 0 and var tagLine ? tagLine : deploy.Line);
        var chart = (ConfigMap)deploy.Get("chart")!;
        var service = Text(Field("deploy.chart.name", chart.Line, () => interp.Interpolate(Elvis(chart.Get("name")) ?? new ConfigScalar("${setup.projectShortName}", chart.Line))), "deploy.chart.name");
        // cluster, test, timeout, chart.version, overrides: checked for valid expressions, not carried by the plan yet.
        foreach (var key in new[] { "cluster", "overrides" })
            if (deploy.Get(key) is { } x) Field($"deploy.{key}", x.Line, () => interp.Interpolate(x));
        if (chart.Get("version") is { } ver) Field("deploy.chart.version", ver.Line, () => interp.Interpolate(ver));
        if (ServiceOwnership.Refusal(context.Project, Names.Service(service), options.ServiceOwners, "deploy.chart.name") is { } refusal)
            throw new PipelineConfigException(refusal, chart.Line);
        _store.BindRuntime(s, "releaseName");
        return new PlanStep
        {
            Name = $"{s}-deploy", Kind = StepKind.Deploy,
            Deploy = new DeployParams
            {
                Environment = options.DeployEnvironment, Service = Names.Service(service),
                RequiresApproval = options.RequiresApproval(options.DeployEnvironment),
                ImageFrom = $"{publishers[0]}-publish",
            },
        };
    }

    /// <summary>
    /// Interpolates a deploy field that must name a publish output; a reference to a stage (this one or an ancestor) that
    /// publishes nothing is refused naming the field, not with the interpolator's list of every variable.
    /// </summary>
    private ConfigValue PublishReference(string field, ConfigValue raw, int line, string s, Interpolator interp)
    {
        try
        {
            return Field(field, line, () => interp.Interpolate(raw), allowWholeRuntime: true);
        }
        // Only the interpolator's "no value bound" (the stage is reachable but bound no publish outputs); its graph errors stay PipelineLib's.
        catch (PipelineConfigException e) when (e.Message.StartsWith("no value bound", StringComparison.Ordinal)
            && raw is ConfigScalar { Value: string text } && PublishOutputReference().Match(text) is { Success: true } m
            && (m.Groups[1].Value.Length == 0 ? s : m.Groups[1].Value) is var stage && !_store.TryGet(stage, m.Groups[2].Value, out _))
        {
            throw new PipelineConfigException(
                $"`{field}` (`{text}`) names stage `{stage}`'s published image, but stage `{stage}` publishes no image (no `publish.image`); Slipway deploys only images it published", line);
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\$\{([A-Za-z0-9_-]*)\.(imageName|imageFullName|publishedImage|imageTag)\}$")]
    private static partial System.Text.RegularExpressions.Regex PublishOutputReference();

    /// <summary><c>${.imageID}</c> or <c>${&lt;stage&gt;.imageID}</c> (possibly through exports) → that stage's build step.</summary>
    private string ImageFrom(ConfigValue raw, string field, Interpolator interp)
    {
        var v = Field(field, raw.Line, () => interp.Interpolate(raw), allowWholeRuntime: true);
        if (v is ConfigRuntime { Key: "imageID" } r) return $"{r.Stage}-build";
        throw new PipelineConfigException($"`{field}` must be the image a build in this run produced (`${{.imageID}}` or `${{<stage>.imageID}}`); Slipway runs only images it built", raw.Line);
    }

    /// <summary>Interpolates one field; a runtime value where the plan needs a real one is refused naming the field.</summary>
    private static ConfigValue Field(string field, int line, Func<ConfigValue> interpolate, bool allowWholeRuntime = false)
    {
        var v = Interpolated(field, line, interpolate);
        if (!(allowWholeRuntime && v is ConfigRuntime or ConfigTemplate) && FindRuntime(v) is { } r) throw RuntimeRefused(field, r.Reference, line);
        return v;
    }

    /// <summary><see cref="Interpolated"/> for a comprehension left for run time: the same errors, at the field's line.</summary>
    private static T? Deferred<T>(string field, int line, Func<T?> defer) where T : struct
    {
        T? result = null;
        Interpolated(field, line, () =>
        {
            result = defer();
            return new ConfigScalar(null, line);
        });
        return result;
    }

    /// <summary>Interpolates one field, leaving any runtime values in it for the caller to check.</summary>
    private static ConfigValue Interpolated(string field, int line, Func<ConfigValue> interpolate)
    {
        ConfigValue v;
        try
        {
            v = interpolate();
        }
        catch (RuntimeReferenceException e)
        {
            throw RuntimeRefused(field, e.Reference, line, e.Why);
        }
        catch (PipelineConfigException e) when (e.Line == 0 && e.File is null && line > 0)
        {
            throw new PipelineConfigException(e.Message, line); // an interpolation error, at the field's line
        }
        return v;
    }

    private static ConfigRuntime? FindRuntime(ConfigValue v) => v switch
    {
        ConfigRuntime r => r,
        ConfigTemplate t => t.FirstRuntime,
        ConfigList l => l.Items.Select(FindRuntime).FirstOrDefault(x => x is not null),
        ConfigMap m => m.Entries.Select(e => FindRuntime(e.Value)).FirstOrDefault(x => x is not null),
        _ => null,
    };

    private static PipelineConfigException RuntimeRefused(string field, string reference, int line, string? why = null) =>
        new($"`{field}` uses `${{{reference}}}`, which is known only while the run executes; " + (why is null
            ? "Slipway plans the whole run before it starts and cannot use it there"
            : why + ", so Slipway cannot use it there"), line);

    private static string Text(ConfigValue v, string field) => v switch
    {
        ConfigScalar { Value: string or long } s => s.Render(),
        _ => throw new PipelineConfigException($"`{field}` must be a string, not a {v.TypeName}", v.Line),
    };
}
