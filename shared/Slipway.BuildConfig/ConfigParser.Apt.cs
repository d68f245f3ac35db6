namespace Slipway.BuildConfig;

// `apt`: packages (per release), sources and proxies (Blubber's config/apt.go).
public static partial class ConfigParser
{
    private static AptConfig ParseApt(YNode v)
    {
        var packages = new List<KeyValuePair<string, IReadOnlyList<string>>>();
        var sources = new List<AptSource>();
        var proxies = new List<AptProxy>();
        foreach (var (key, n) in v.Fields("packages", "sources", "proxies"))
        {
            if (n.IsNull) continue;
            switch (key)
            {
                case "packages":
                    if (n.IsList) packages.Add(new("default", ParsePackages(n, "default")));
                    else
                        foreach (var (rel, list) in n.Map())
                        {
                            if (rel.Length > 0 && !Validators.IsDebianRelease(rel))
                                throw list.Fail(BlubberErrorKind.Validation, $"packages: \"{rel}\" is not a valid Debian release name");
                            if (Validators.HasShellExpansion(rel) || rel.Contains('"') || rel.Contains('\\'))
                                throw Stricter(list, $"packages: \"{rel}\" must not contain \"$\", \"`\", quotes or backslashes", ShellWhy);
                            packages.Add(new(rel, list.IsNull ? [] : ParsePackages(list, rel)));
                        }
                    break;
                case "sources":
                    foreach (var s in n.List()) sources.Add(ParseSource(s));
                    break;
                case "proxies":
                    foreach (var p in n.List())
                    {
                        if (p.IsScalar) proxies.Add(new AptProxy(HttpUrl(p, "url"), null));
                        else
                        {
                            string? url = null, source = null;
                            foreach (var (pk, pv) in LenientFields(p, "url", "source"))
                                if (pv.IsNull) continue;
                                else if (pk == "url") url = HttpUrl(pv, "url");
                                else source = HttpUrl(pv, "source");
                            if (url is null) throw p.Fail(BlubberErrorKind.Validation, "url: is required");
                            proxies.Add(new AptProxy(url, source));
                        }
                    }
                    break;
            }
        }
        return new AptConfig(packages, sources, proxies);
    }

    private static List<string> ParsePackages(YNode list, string release)
    {
        var items = list.List();
        var result = new List<string>();
        for (var i = 0; i < items.Count; i++)
        {
            var p = items[i].Str();
            if (!Validators.IsDebianPackage(p))
                throw items[i].Fail(BlubberErrorKind.Validation, $"packages[{release}][{i}]: \"{p}\" is not a valid Debian package name");
            result.Add(p);
        }
        return result;
    }

    private static AptSource ParseSource(YNode n)
    {
        string? url = null, dist = null, signedBy = null;
        var components = new List<string>();
        foreach (var (k, v) in n.Fields("url", "distribution", "components", "signed-by"))
        {
            if (v.IsNull) continue;
            switch (k)
            {
                case "url": url = HttpUrl(v, "url"); break;
                case "distribution":
                    dist = v.Str();
                    if (!Validators.IsDebianRelease(dist)) throw v.Invalid($"\"{dist}\" is not a valid Debian release name");
                    break;
                case "components":
                    foreach (var c in v.List())
                    {
                        var s = c.Str();
                        if (!Validators.IsDebianComponent(s)) throw c.Fail(BlubberErrorKind.Validation, $"components: \"{s}\" is not a valid Debian component name");
                        components.Add(s);
                    }
                    break;
                case "signed-by": signedBy = Since(v, "apt.sources.signed-by", SignedBy(v)); break;
            }
        }
        if (url is null) throw n.Fail(BlubberErrorKind.Validation, "url: is required");
        if (dist is null) throw n.Fail(BlubberErrorKind.Validation, "distribution: is required");
        return new AptSource(url, dist, components, signedBy);
    }

    // Key text is multi-line by nature: allow newlines here only, and only printable ASCII otherwise.
    private static string SignedBy(YNode v)
    {
        if (!v.IsScalar) throw v.Fail(BlubberErrorKind.Parse, "signed-by: must be a string");
        var raw = v.RawScalar();
        if (raw.Length > 64 * 1024 || raw.Any(ch => ch != '\n' && (ch < 0x20 || ch > 0x7e)) || !raw.Contains("-----BEGIN PGP PUBLIC KEY BLOCK-----"))
            throw v.Invalid("must be an ASCII-armoured OpenPGP public key");
        return raw;
    }

    private static string HttpUrl(YNode v, string key)
    {
        var s = v.Str();
        if (!Validators.IsHttpUrl(s)) throw v.Fail(BlubberErrorKind.Validation, $"{key}: \"{s}\" is not a valid HTTP/HTTPS URL");
        if (!Validators.IsHttpUrlStrict(s))
            throw Stricter(v, $"{key}: \"{s}\" must not contain whitespace, quotes, backslashes, \"$\", \"`\" or \";\"",
                "the URL is written into apt's configuration, where a quote would end the string and add apt options, some of which run commands");
        return s;
    }
}
