using System.Net;
using System.Net.Sockets;
using System.Text;
using Slipway.Tests.Integration.Support;
using static Slipway.Tests.Integration.Gerrit.GatewayTests;

namespace Slipway.Tests.Integration.Gerrit;

/// <summary>
/// The gateway's webhook token (a secret in the URL path, the only place Gerrit's webhooks plugin can put it) appears
/// in no log line and no exported trace span: the gateway runs as a process with every ASP.NET Core log at Debug,
/// JSON logs with scopes, and traces exported over OTLP to a listener this test runs; the test reads every byte.
/// </summary>
public sealed class WebhookTokenRedactionTests
{
    private const string Token = "webhook-token-SECRET-7f3a9c1e5b";

    [Fact]
    public async Task The_webhook_token_is_in_no_log_line_and_no_exported_span()
    {
        using var collector = new OtlpCollector();
        await using var env = await GerritServiceEnvironment.StartAsync();
        await env.Gerrit.CreateProjectAsync("demo/hello");
        var upload = await env.Gerrit.UploadPatchsetAsync("demo/hello", "master", new Dictionary<string, string?> { ["a.txt"] = "a\n" }, "Change a");
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", TestInfrastructure.UniqueName("gw_"), new Dictionary<string, string?>
        {
            ["Gateway__WebhookToken"] = Token,
            ["Logging__Json"] = "true",
            ["Logging__LogLevel__Default"] = "Debug",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Debug",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Url,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        });
        await WaitForConnectionsAsync(gateway, 1);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var url = $"http://127.0.0.1:{gateway.Port}/webhooks/gerrit/{Token}";
        Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync(url, Json(upload.EventJson))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync(url + "?retry=1", Json("{\"type\": "))).StatusCode);
        // A near miss of the token is refused and not logged either.
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await http.PostAsync($"http://127.0.0.1:{gateway.Port}/webhooks/gerrit/{Token}x", Json(upload.EventJson))).StatusCode);

        // The webhook's spans arrive at the collector, with the path, without the token.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!collector.Received.Contains("/webhooks/gerrit", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "no span of the webhook request was exported");
            await Task.Delay(200);
        }
        Assert.DoesNotContain(Token, collector.Received);
        // Logs: hosting's "Request starting" lines and the request scopes were written, without the token.
        Assert.Contains("Request starting", gateway.Output);
        Assert.Contains("/webhooks/gerrit", gateway.Output);
        Assert.DoesNotContain(Token, gateway.Output);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>A minimal OTLP/HTTP receiver on 127.0.0.1: answers 200 and keeps every body it got (protobuf strings are plain UTF-8).</summary>
    private sealed class OtlpCollector : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly StringBuilder _received = new();
        private readonly Task _loop;

        public OtlpCollector()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Add(Url + "/");
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public string Url { get; }

        public string Received { get { lock (_received) return _received.ToString(); } }

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                using var body = new MemoryStream();
                await ctx.Request.InputStream.CopyToAsync(body);
                lock (_received) _received.Append(ctx.Request.Url?.AbsolutePath).Append('\n').Append(Encoding.UTF8.GetString(body.ToArray())).Append('\n');
                ctx.Response.StatusCode = 200;
                ctx.Response.ContentType = "application/x-protobuf";
                ctx.Response.Close();
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        }
    }
}
