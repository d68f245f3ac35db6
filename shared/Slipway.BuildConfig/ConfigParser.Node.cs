namespace Slipway.BuildConfig;

// `node`: the npm install (Blubber's config/node.go).
public static partial class ConfigParser
{
    private static NodeBuilder ParseNode(YNode v)
    {
        var b = new NodeBuilder(null, null, null, null, v.Line);
        foreach (var (k, n) in v.Fields("requirements", "env", "use-npm-ci", "allow-dedupe-failure"))
        {
            if (n.IsNull) continue;
            b = k switch
            {
                "requirements" => b with { Requirements = ParseRequirements(n) },
                "env" => b with { Env = NodeEnv(n) },
                "use-npm-ci" => b with { UseNpmCi = n.OptBool() },
                _ => b with { AllowDedupeFailure = n.OptBool() },
            };
        }
        return b;
    }

    private static string NodeEnv(YNode n)
    {
        var s = n.Str();
        if (!Validators.IsNodeEnv(s)) throw n.Invalid($"\"{s}\" is not a valid Node environment name");
        return s;
    }
}
