namespace Slipway.BuildConfig;

// `lives` and `runs`: the users the application is installed and runs as (Blubber's config/lives.go, runs.go, user.go).
public static partial class ConfigParser
{
    private static LivesConfig ParseLives(YNode v)
    {
        var l = new LivesConfig(null, null, null, null);
        foreach (var (k, n) in v.Fields("in", "as", "uid", "gid"))
        {
            if (n.IsNull) continue;
            l = k switch
            {
                "in" => l with { In = AbsPath(n) },
                "as" => l with { As = UserName(n) },
                "uid" => l with { Uid = n.OptUInt() },
                _ => l with { Gid = n.OptUInt() },
            };
        }
        return l;
    }

    private static RunsConfig ParseRuns(YNode v)
    {
        var r = new RunsConfig(null, null, null, null, null, []);
        foreach (var (k, n) in v.Fields("in", "as", "uid", "gid", "environment", "insecurely"))
        {
            if (n.IsNull) continue;
            r = k switch
            {
                "in" => r with { In = AbsPath(n) },
                "as" => r with { As = UserName(n) },
                "uid" => r with { Uid = n.OptUInt() },
                "gid" => r with { Gid = n.OptUInt() },
                "environment" => r with { Environment = ParseEnvMap(n) },
                _ => r with { Insecurely = n.OptBool() },
            };
        }
        return r;
    }

    private static string AbsPath(YNode n)
    {
        var s = n.Str();
        if (!Validators.IsAbsNonRootPath(s)) throw n.Invalid($"\"{s}\" is not a valid absolute non-root path");
        return Validators.CleanPath(s); // the same directory Blubber's path operations reach
    }

    private static string UserName(YNode n)
    {
        var s = n.Str();
        if (!Validators.IsUserName(s)) throw n.Invalid($"\"{s}\" is not a valid user name");
        return s;
    }
}
