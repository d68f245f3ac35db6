using System.Security.Cryptography;
using System.Text;

namespace Slipway.Contracts;

/// <summary>
/// Name-based UUIDs (RFC 9562 version 5, SHA-1) so the same inputs always give the same id:
/// a duplicate trigger yields the same run id, a re-delivered Gerrit event the same event id.
/// </summary>
public static class DeterministicId
{
    // Slipway's own namespace UUID (random, fixed forever).
    private static readonly Guid Namespace = new("6f1c7f43-6a43-4f55-9d8e-1c1f0b7a9e21");

    public static string From(params string[] parts)
    {
        var name = Encoding.UTF8.GetBytes(string.Join('\u001f', parts));
        Span<byte> ns = stackalloc byte[16];
        Namespace.TryWriteBytes(ns, bigEndian: true, out _);
        var input = new byte[16 + name.Length];
        ns.CopyTo(input);
        name.CopyTo(input, 16);
        var hash = SHA1.HashData(input);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString();
    }
}
