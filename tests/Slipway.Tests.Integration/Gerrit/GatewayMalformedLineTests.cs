using Slipway.Tests.Integration.Support;

namespace Slipway.Tests.Integration.Gerrit;

/// <summary>Hostile stream input: lines that are not JSON, and an oversized line, through the real sshd stream.</summary>
public sealed class GatewayMalformedLineTests
{
    [Fact]
    public async Task Malformed_and_oversized_lines_are_skipped_and_counted_and_the_gateway_stays_up()
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        await env.Gerrit.CreateProjectAsync("demo/hostile");
        var first = await env.Gerrit.UploadPatchsetAsync("demo/hostile", "master", new Dictionary<string, string?> { ["a"] = "1\n" }, "First");
        var schema = TestInfrastructure.UniqueName("gw_");
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema);
        await GatewayTests.WaitForConnectionsAsync(gateway, 1);
        var before = await GatewayTests.CommentUntilLiveAsync(env, schema, first.ChangeNumber);

        env.Gerrit.EmitRawLine("this is not json {");
        env.Gerrit.EmitRawLine("{\"type\":\"patchset-created\",\"change\":"); // truncated
        env.Gerrit.EmitRawLine("{\"type\":\"comment-added\",\"comment\":\"" + new string('x', 1_100_000) + "\"}"); // over the 1,000,000-character line limit
        env.Gerrit.EmitRawLine("[1,2,3]");
        var upload = await env.Gerrit.UploadPatchsetAsync("demo/hostile", "master", new Dictionary<string, string?> { ["b"] = "2\n" }, "After the garbage");

        // The next real event still comes through, on the same connection, and nothing else was published.
        var deadline = DateTime.UtcNow + GatewayTests.Timeout;
        while (await GatewayTests.SeenAsync(schema) < before + 2 && DateTime.UtcNow < deadline) await Task.Delay(100); // ref-updated + patchset-created
        var events = GatewayTests.Read(env, (int)before + 2, TimeSpan.FromSeconds(30)).Where(e => e.Event.Project == "demo/hostile").ToList();
        Assert.Contains(events, e => e.Event.Type == "patchset-created" && e.Event.Revision == upload.Revision);
        Assert.Equal(before + 2, await GatewayTests.SeenAsync(schema));
        Assert.False(gateway.HasExited);
        Assert.Equal(1, gateway.Output.Split("stream-events connected").Length - 1);

        var metrics = await (await gateway.GetAsync("/metrics")).Content.ReadAsStringAsync();
        var malformed = metrics.Split('\n').Single(l => l.StartsWith("slipway_gateway_malformed_lines_total"));
        Assert.Equal(4, (int)Math.Round(double.Parse(malformed.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Contains("malformed line from", gateway.Output);
    }
}
