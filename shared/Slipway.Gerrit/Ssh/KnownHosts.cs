using System.Security.Cryptography;
using System.Text;

namespace Slipway.Gerrit.Ssh;

/// <summary>
/// An OpenSSH known_hosts file: plain (<c>host</c>, <c>[host]:port</c>, comma lists) and hashed
/// (<c>|1|salt|hash</c>) host patterns. The gateway trusts a server only if its key is listed.
/// </summary>
public sealed class KnownHosts
{
    private readonly List<(string Pattern, string KeyType, byte[] Key)> _entries = [];

    public static KnownHosts Load(string path)
    {
        var hosts = new KnownHosts();
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith('@')) continue; // @revoked/@cert-authority: not trusted here
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 3) continue;
            byte[] key;
            try { key = Convert.FromBase64String(parts[2]); }
            catch (FormatException) { continue; }
            foreach (var pattern in parts[0].Split(','))
                hosts._entries.Add((pattern, parts[1], key));
        }
        return hosts;
    }

    /// <summary>True if <paramref name="key"/> (the SSH public key blob) is listed for host:port with that key type.</summary>
    public bool Trusts(string host, int port, string keyType, byte[] key)
    {
        var name = port == 22 ? host : $"[{host}]:{port}";
        return _entries.Any(e => e.KeyType == keyType && CryptographicOperations.FixedTimeEquals(e.Key, key) && Matches(e.Pattern, name));
    }

    private static bool Matches(string pattern, string name)
    {
        if (!pattern.StartsWith("|1|", StringComparison.Ordinal)) return string.Equals(pattern, name, StringComparison.OrdinalIgnoreCase);
        var fields = pattern.Split('|');
        if (fields.Length != 4) return false;
        try
        {
            var hash = HMACSHA1.HashData(Convert.FromBase64String(fields[2]), Encoding.ASCII.GetBytes(name));
            return CryptographicOperations.FixedTimeEquals(hash, Convert.FromBase64String(fields[3]));
        }
        catch (FormatException) { return false; }
    }
}
