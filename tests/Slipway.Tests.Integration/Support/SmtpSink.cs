using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Slipway.Tests.Integration.Support;

/// <summary>
/// A real SMTP server on 127.0.0.1 (the SmtpServer library: the protocol as a relay speaks it, in the test process) that
/// keeps every message it accepts, with the envelope's recipients, for tests of the reporter's notify mail.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    public sealed record Received(MimeMessage Message, IReadOnlyList<string> EnvelopeTo);

    private readonly ConcurrentQueue<Received> _messages = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    public int Port { get; }

    public IReadOnlyList<Received> Messages => _messages.ToArray();

    private SmtpSink(int port)
    {
        Port = port;
        var options = new SmtpServerOptionsBuilder()
            .ServerName("smtp-sink.test")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, port)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(_messages));
        _running = new SmtpServer.SmtpServer(options, services).StartAsync(_stop.Token);
    }

    public static async Task<SmtpSink> StartAsync()
    {
        var sink = new SmtpSink(Slipway.Embedded.FreePort.Next());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await Slipway.Embedded.FreePort.IsListeningAsync(sink.Port))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the SMTP sink did not listen on 127.0.0.1:{sink.Port}");
            await Task.Delay(50);
        }
        return sink;
    }

    /// <summary>Waits until at least <paramref name="count"/> messages came (bounded), and returns all so far.</summary>
    public async Task<IReadOnlyList<Received>> WaitForAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (_messages.Count < count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{_messages.Count} of {count} mails came within {timeout}");
            await Task.Delay(100);
        }
        return Messages;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _running; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }

    private sealed class Store(ConcurrentQueue<Received> messages) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction,
            ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);
            messages.Enqueue(new Received(message, transaction.To.Select(m => $"{m.User}@{m.Host}").ToList()));
            return SmtpResponse.Ok;
        }
    }
}
