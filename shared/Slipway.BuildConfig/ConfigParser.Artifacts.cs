namespace Slipway.BuildConfig;

// `copies` and artifacts: what a variant copies from another variant or the build context (Blubber's config/artifacts.go).
public static partial class ConfigParser
{
    private static List<Artifact> ParseRequirements(YNode n)
    {
        var list = n.List().Select(i => i.IsScalar ? CheckArtifact(i, new Artifact(Artifact.Local, i.Str(), null, [], i.Line)) : ParseArtifact(i)).ToList();
        RefuseDuplicates(n, list);
        return list;
    }

    private static List<Artifact> ParseCopies(YNode n)
    {
        var items = n.List();
        List<Artifact> list;
        if (items.All(i => i.IsScalar))
            list = items.Select(i => CheckArtifact(i, new Artifact(i.Str(), null, null, [], i.Line))).ToList();
        else if (items.All(i => i.IsMap))
            list = items.Select(ParseArtifact).ToList();
        else
            throw n.Fail(BlubberErrorKind.Parse, "copies: must be a list of variant names or a list of artifacts, not a mix");
        RefuseDuplicates(n, list);
        return list;
    }

    private static void RefuseDuplicates(YNode n, List<Artifact> list)
    {
        var seen = new HashSet<string>();
        foreach (var a in list)
            if (!seen.Add(a.Key)) throw new BlubberException(BlubberErrorKind.Validation, $"{n.Key}: cannot contain duplicates", n.Path, a.Line);
    }

    private static Artifact ParseArtifact(YNode i)
    {
        string? from = null, source = null, dest = null;
        var exclude = new List<string>();
        foreach (var (k, v) in LenientFields(i, "from", "source", "destination", "exclude"))
        {
            if (v.IsNull) continue;
            switch (k)
            {
                case "from": from = v.Str(); break;
                case "source": source = v.Str(); break;
                case "destination": dest = v.Str(); break;
                default: exclude.AddRange(Since(v, "artifact.exclude", v.StrList())); break;
            }
        }
        if (string.IsNullOrEmpty(from))
        {
            // Blubber validated the entries of a `builders` list only from v1.3.0 ("dive"); before, a requirement without
            // `from` was copied from the build context (requirements.go: `from == ""` is local).
            if (!(_state is { InBuildersList: true } && ValidatedBy is { } v && v < BlubberVersions.BuildersListValidated))
                throw i.Fail(BlubberErrorKind.Validation, "from: is required");
            _state.Warnings.Add($"{i.Path} (line {i.Line}): \"from\" is missing; accepted as \"local\" (the build context) because {ValidatedByReason}, " +
                $"which did not validate `builders` entries (Blubber v{BlubberVersions.BuildersListValidated.ToString(3)} and later refuse it)");
            from = Artifact.Local;
        }
        return CheckArtifact(i, new Artifact(from, NullIfEmpty(source), NullIfEmpty(dest), exclude, i.Line));
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static Artifact CheckArtifact(YNode at, Artifact a)
    {
        if (a.Destination is not null && a.Source is null)
            throw at.Fail(BlubberErrorKind.Validation, "source: is required if \"destination\" is also set");
        // Blubber's relativelocal; a destination and a non-local source are not checked (the copy stays in the image).
        if (a.IsLocal && a.Source is not null && !Validators.IsRelativeLocal(a.Source))
            throw at.Fail(BlubberErrorKind.Validation, "source: path must be relative when \"from\" is \"local\"");
        return a;
    }
}
