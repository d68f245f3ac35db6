using System.Text;
using System.Threading.Channels;

namespace Slipway.Builder.Building;

/// <summary>
/// Turns build output (rendered from BuildKit's status stream by <see cref="BuildKit.BuildKitProgress"/>) into lines,
/// in order: each goes to the log file (up to a size bound), to the caller's stream callback, and to an in-memory
/// tail kept for the result. Lines are queued synchronously and written by one consumer.
/// </summary>
internal sealed class BuildOutputLog : IAsyncDisposable
{
    private const int TailLines = 200;

    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly StreamWriter _file;
    private readonly Func<string, Task>? _onLine;
    private readonly long _maxBytes;
    private readonly Queue<string> _tail = new();
    private readonly StringBuilder _partial = new();
    private readonly Task _consumer;
    private long _written;
    private bool _truncated;

    public BuildOutputLog(string path, long maxBytes, Func<string, Task>? onLine)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _file = new StreamWriter(path, append: false, new UTF8Encoding(false));
        _maxBytes = maxBytes;
        _onLine = onLine;
        _consumer = Task.Run(ConsumeAsync);
    }

    /// <summary>Writes text to the log file only (the generated Dockerfile), not to the stream callback.</summary>
    public void WriteHeader(string text) => _file.Write(text);

    /// <summary>Output text; complete lines are logged, streamed and kept in the tail, a partial line waits for its end.</summary>
    public void Write(string text) => Append(text);

    /// <summary>A line from the builder itself (time limit reached, engine error).</summary>
    public void Note(string line) => Append(line + "\n");

    private void Append(string text)
    {
        lock (_partial)
        {
            _partial.Append(text);
            var s = _partial.ToString();
            var last = s.LastIndexOf('\n');
            if (last < 0) return;
            foreach (var line in s[..last].Split('\n')) _lines.Writer.TryWrite(line.TrimEnd('\r'));
            _partial.Clear().Append(s[(last + 1)..]);
        }
    }

    private async Task ConsumeAsync()
    {
        await foreach (var line in _lines.Reader.ReadAllAsync())
        {
            lock (_tail)
            {
                _tail.Enqueue(line);
                if (_tail.Count > TailLines) _tail.Dequeue();
            }
            if (!_truncated)
            {
                _written += Encoding.UTF8.GetByteCount(line) + 1;
                if (_written > _maxBytes)
                {
                    _truncated = true;
                    await _file.WriteLineAsync($"[slipway: output beyond {_maxBytes} bytes not kept in this file]");
                }
                else await _file.WriteLineAsync(line);
            }
            if (_onLine is not null)
            {
                // A failing subscriber must not fail the build or stop the log.
                try { await _onLine(line); } catch (Exception) { }
            }
        }
    }

    /// <summary>The full text of the last lines seen (up to 200), for <see cref="Slipway.Contracts.Output.Tail"/>.</summary>
    public string TailText()
    {
        lock (_tail) return string.Join('\n', _tail);
    }

    /// <summary>Flushes a last unterminated line and waits until every line was written and streamed.</summary>
    public async ValueTask CompleteAsync()
    {
        lock (_partial)
        {
            if (_partial.Length > 0) _lines.Writer.TryWrite(_partial.ToString());
            _partial.Clear();
            _lines.Writer.TryComplete();
        }
        await _consumer;
        await _file.FlushAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _lines.Writer.TryComplete();
        try { await _consumer; } catch (Exception) { }
        await _file.DisposeAsync();
    }
}
