using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Slipway.Builder.Building.BuildKit;

/// <summary>
/// The scope of a project's BuildKit cache mounts (the compiler prefixes every cache id with it): caches persist
/// across runs of one project and are never shared between two. The project's name, made safe, plus a hash of the
/// exact name, so two projects never get one scope (<c>a/b</c> and <c>a_b</c> differ by hash). It holds no
/// <c>/</c>, so a scope never runs into the cache id the compiler appends after it.
/// </summary>
public static partial class CacheScope
{
    public static string For(string project)
    {
        ArgumentException.ThrowIfNullOrEmpty(project);
        var safe = Unsafe().Replace(project, "_");
        if (safe.Length > 100) safe = safe[..100];
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(project)))[..16];
        return $"{safe}-{hash}";
    }

    [GeneratedRegex("[^A-Za-z0-9._-]")]
    private static partial Regex Unsafe();
}
