using Docker.DotNet.Models;

namespace Slipway.Publisher.Registry;

/// <summary>
/// Collects the JSON message stream of one <c>docker push</c>, synchronously (unlike
/// <see cref="Progress{T}"/>, which posts to the thread pool and may lag behind the end of the push):
/// the first error (<c>errorDetail</c>), the digest the engine reports, and the last status lines.
/// </summary>
public sealed class PushProgress : IProgress<JSONMessage>
{
    private const int KeepLines = 20;
    private readonly object _gate = new();
    private readonly Queue<string> _lines = new();

    public string? Error { get; private set; }
    public string? Digest { get; private set; }

    public IReadOnlyList<string> LastLines
    {
        get { lock (_gate) return [.. _lines]; }
    }

    public void Report(JSONMessage value)
    {
        if (value is null) return;
        lock (_gate)
        {
            var error = value.Error?.Message is { Length: > 0 } m ? m : value.ErrorMessage;
            if (!string.IsNullOrEmpty(error)) Error ??= error;

            if (value.Aux?.ExtensionData is { } aux && aux.TryGetValue("Digest", out var digest) && digest?.ToString() is { Length: > 0 } d)
                Digest = d;

            var line = string.Join(' ', new[] { value.ID, value.Status, error }.Where(s => !string.IsNullOrEmpty(s)));
            if (line.Length == 0 || value.Progress is not null) return; // per-chunk progress is noise
            _lines.Enqueue(line.Length > 300 ? line[..300] : line);
            while (_lines.Count > KeepLines) _lines.Dequeue();
        }
    }
}
