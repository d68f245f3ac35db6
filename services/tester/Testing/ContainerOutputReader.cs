using Docker.DotNet;

namespace Slipway.Tester.Testing;

/// <summary>Copies a container's multiplexed stdout/stderr into a <see cref="BoundedOutput"/> until the stream ends.</summary>
public static class ContainerOutputReader
{
    public static async Task PumpAsync(MultiplexedStream stream, BoundedOutput output, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, ct).ConfigureAwait(false);
            if (read.EOF) return;
            output.Write(buffer.AsSpan(0, read.Count));
        }
    }
}
