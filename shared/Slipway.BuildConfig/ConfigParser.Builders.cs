namespace Slipway.BuildConfig;

// `builder` and `builders`: custom build commands, their mounts and caches (Blubber's config/builder.go, builders.go).
public static partial class ConfigParser
{
    private static List<BuilderEntry> ParseBuilders(YNode v)
    {
        var result = new List<BuilderEntry>();
        var outer = _state?.InBuildersList ?? false;
        if (_state is not null) _state.InBuildersList = true;
        try
        {
            foreach (var item in v.List())
            {
                var fields = item.Fields("custom", "node", "php", "python").Where(f => !f.Value.IsNull).ToList();
                if (fields.Count != 1)
                    throw item.Fail(BlubberErrorKind.Validation, "builders: each entry must have exactly one of custom, node, php, python");
                var (kind, n) = fields[0];
                result.Add(kind switch
                {
                    "node" => new BuilderEntry(ParseNode(n), null, null, null, item.Line),
                    "php" => new BuilderEntry(null, ParsePhp(n), null, null, item.Line),
                    "python" => new BuilderEntry(null, null, ParsePython(n), null, item.Line),
                    _ => new BuilderEntry(null, null, null, ParseCustom(n), item.Line),
                });
            }
        }
        finally
        {
            if (_state is not null) _state.InBuildersList = outer;
        }
        var repeated = result.Where(b => b.Kind != "custom").GroupBy(b => b.Kind).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null)
            throw new BlubberException(BlubberErrorKind.Validation, "builders: contains disallowed repetitions of entries", v.Path, repeated.Skip(1).First().Line);
        return result;
    }

    private static CustomBuilder ParseCustom(YNode v)
    {
        var b = new CustomBuilder(null, null, null, null, null, null, v.Line);
        foreach (var (k, n) in v.Fields("command", "script", "requirements", "mounts", "caches"))
        {
            if (n.IsNull) continue;
            switch (k)
            {
                case "command":
                    // Any text, as in Blubber: it runs as `/bin/sh -c <text>`, rendered JSON-escaped when it spans lines.
                    if (n.IsList) b = b with { Command = n.List().Select(x => x.StrAny()).ToList() };
                    else b = b with { ShellCommand = n.StrAny() };
                    break;
                case "script": b = Since(n, "builder.script", b with { Script = n.RawScalar() }); break;
                case "requirements": b = b with { Requirements = ParseRequirements(n) }; break;
                case "mounts":
                    var mounts = n.List().Select(m => m.IsScalar ? CheckMount(m, new Mount(m.Str(), null, null)) : ParseMount(m)).ToList();
                    if (mounts.Distinct().Count() != mounts.Count) throw n.Fail(BlubberErrorKind.Validation, "mounts: cannot contain duplicates");
                    b = Since(n, "builder.mounts", b with { Mounts = mounts });
                    break;
                case "caches":
                    var caches = n.List().Select(c => c.IsScalar ? CheckCache(c, new Cache(c.Str(), null, null)) : ParseCache(c)).ToList();
                    if (caches.Distinct().Count() != caches.Count) throw n.Fail(BlubberErrorKind.Validation, "caches: cannot contain duplicates");
                    b = Since(n, "builder.caches", b with { Caches = caches });
                    break;
            }
        }
        if (b.HasCommand && b.Script is not null)
            throw v.Fail(BlubberErrorKind.Validation, "command: is not allowed if any of field(s) \"script\" is declared/included");
        return b;
    }

    private static Mount ParseMount(YNode m)
    {
        string? from = null, dest = null, src = null;
        foreach (var (k, n) in LenientFields(m, "from", "destination", "source"))
            if (k == "from") from = n.OptStr(); else if (k == "destination") dest = n.OptStr(); else src = n.OptStr();
        if (string.IsNullOrEmpty(from))
            throw Stricter(m, "from: is required", "Blubber would mount an image named \"\" and fail the build");
        return CheckMount(m, new Mount(from, dest, src));
    }

    // Blubber does not check mounts; Slipway renders them into RUN --mount flags, so their fields must fit one.
    private static Mount CheckMount(YNode at, Mount m)
    {
        foreach (var (name, value) in new[] { ("destination", m.Destination), ("source", m.Source) })
            if (value is not null && !IsMountField(value))
                throw Stricter(at, $"{name}: \"{value}\" must not contain commas, quotes, \"=\" or whitespace", MountWhy);
        return m;
    }

    private static Cache CheckCache(YNode at, Cache c)
    {
        if (c.Destination.Length == 0) throw at.Fail(BlubberErrorKind.Validation, "destination: is required");
        foreach (var (name, value) in new[] { ("destination", c.Destination), ("id", c.Id) })
            if (value is not null && !IsMountField(value))
                throw Stricter(at, $"{name}: \"{value}\" must not contain commas, quotes, \"=\" or whitespace", MountWhy);
        return c;
    }

    private static bool IsMountField(string s) => !s.Any(ch => ch is ',' or '"' or '\'' or '=' || char.IsWhiteSpace(ch));

    private static Cache ParseCache(YNode c)
    {
        string? dest = null, id = null, access = null;
        foreach (var (k, n) in LenientFields(c, "destination", "id", "access"))
            if (k == "destination") dest = n.OptStr(); else if (k == "id") id = n.OptStr(); else access = n.OptStr();
        if (string.IsNullOrEmpty(dest)) throw c.Fail(BlubberErrorKind.Validation, "destination: is required");
        if (access is not null and not ("shared" or "private" or "locked"))
            throw c.Fail(BlubberErrorKind.Validation, $"access: \"{access}\" must be one of shared, private, locked");
        return CheckCache(c, new Cache(dest, id, access));
    }
}
