namespace Slipway.BuildConfig;

// `php`: the composer install (Blubber's config/php.go).
public static partial class ConfigParser
{
    private static PhpBuilder ParsePhp(YNode v)
    {
        var b = new PhpBuilder(null, null, v.Line);
        foreach (var (k, n) in v.Fields("requirements", "production"))
        {
            if (n.IsNull) continue;
            b = k == "requirements" ? b with { Requirements = ParseRequirements(n) } : b with { Production = n.OptBool() };
        }
        return b;
    }
}
