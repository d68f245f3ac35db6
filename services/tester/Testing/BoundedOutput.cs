using System.Text;
using Slipway.Contracts;

namespace Slipway.Tester.Testing;

/// <summary>
/// The most recent bytes of a container's output in a fixed-size ring buffer: a test that prints gigabytes
/// costs no more memory than its capacity. Not thread-safe (one reader loop writes it).
/// </summary>
public sealed class BoundedOutput(int capacityBytes)
{
    private readonly byte[] _ring = new byte[capacityBytes > 0 ? capacityBytes : throw new ArgumentOutOfRangeException(nameof(capacityBytes))];
    private int _next; // where the next byte goes
    private bool _wrapped;

    /// <summary>Every byte ever written, kept or not.</summary>
    public long TotalBytes { get; private set; }

    /// <summary>True once older output was dropped (the first kept line may be cut).</summary>
    public bool DroppedOlderOutput => TotalBytes > _ring.Length;

    public void Write(ReadOnlySpan<byte> data)
    {
        TotalBytes += data.Length;
        if (data.Length >= _ring.Length)
        {
            data[^_ring.Length..].CopyTo(_ring);
            _next = 0;
            _wrapped = true;
            return;
        }
        var first = Math.Min(data.Length, _ring.Length - _next);
        data[..first].CopyTo(_ring.AsSpan(_next));
        data[first..].CopyTo(_ring);
        if (_next + data.Length >= _ring.Length) _wrapped = true;
        _next = (_next + data.Length) % _ring.Length;
    }

    /// <summary>The kept bytes as text (a character cut by the ring's start is dropped).</summary>
    public string Text()
    {
        var bytes = _wrapped ? [.. _ring.AsSpan(_next), .. _ring.AsSpan(0, _next)] : _ring.AsSpan(0, _next).ToArray();
        var start = 0;
        if (_wrapped) while (start < bytes.Length && start < 4 && (bytes[start] & 0xC0) == 0x80) start++; // UTF-8 continuation bytes
        return Encoding.UTF8.GetString(bytes, start, bytes.Length - start);
    }

    /// <summary>The last <paramref name="lines"/> lines, bounded as events require (<see cref="Output.Tail"/>).</summary>
    public string? Tail(int lines = Output.DefaultTailLines) => Output.Tail(Text(), lines);
}
