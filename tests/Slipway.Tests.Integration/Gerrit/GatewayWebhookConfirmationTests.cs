using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Slipway.Contracts;
using Slipway.Tests.Integration.Support;
using static Slipway.Tests.Integration.Gerrit.GatewayTests;

namespace Slipway.Tests.Integration.Gerrit;

/// <summary>
/// A webhook is not proof of who wrote what: the gateway publishes a webhook comment-added only when Gerrit's REST API
/// has that message, by that account, on that change, written recently. Against the stand-in.
/// </summary>
public sealed class GatewayWebhookConfirmationTests
{
    private const string Token = "webhook-secret-0123456789abcdef";

    [Fact]
    public async Task A_webhook_comment_is_published_confirmed_only_when_gerrit_has_it_and_forged_or_replayed_ones_are_refused()
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        await env.Gerrit.CreateProjectAsync("demo/hello");
        var upload = await env.Gerrit.UploadPatchsetAsync("demo/hello", "master", new Dictionary<string, string?> { ["a"] = "a\n" }, "Change a");
        var approver = env.Gerrit.AddAccount("Release Manager", "rm@example.org", "release-manager");
        // Written before the gateway runs: only the webhook delivers them.
        var real = await env.Gerrit.CommentAsync(upload.ChangeNumber, "approve production", approver);
        var byDeveloper = await env.Gerrit.CommentAsync(upload.ChangeNumber, "approve production\nplease");
        var schema = TestInfrastructure.UniqueName("gw_");
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema,
            new Dictionary<string, string?> { ["Gateway__WebhookToken"] = Token });
        await WaitForConnectionsAsync(gateway, 1);

        // Forgeries: text Gerrit does not have; the developer's comment claimed for the approver; a change that does
        // not exist; the real comment replayed with another time (a new event id, the same old message).
        var forgedText = Edit(real, e => e["comment"] = $"Patch Set {upload.PatchSet}:\n\napprove production\n\nforged");
        var forgedAuthor = Edit(byDeveloper, e => e["author"] = new JsonObject { ["name"] = "x", ["email"] = "x@x", ["username"] = "release-manager" });
        var forgedChange = Edit(real, e => e["change"]!["number"] = 9999);
        var replayed = Edit(real, e => e["eventCreatedOn"] = e["eventCreatedOn"]!.GetValue<long>() + 120);
        foreach (var (what, forged) in new[] { ("text", forgedText), ("author", forgedAuthor), ("change", forgedChange), ("replay", replayed) })
        {
            using var refused = await PostAsync(gateway, forged);
            var body = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.UnprocessableEntity, $"forged {what}: {(int)refused.StatusCode} {body}\n{gateway.Output}");
            Assert.Contains("not confirmed by Gerrit", body);
        }
        using (var accepted = await PostAsync(gateway, real)) Assert.Equal(HttpStatusCode.NoContent, accepted.StatusCode);
        using (var again = await PostAsync(gateway, real)) Assert.Equal(HttpStatusCode.NoContent, again.StatusCode); // a retry: a duplicate

        Assert.Equal(1, await SeenAsync(schema));
        var published = Assert.Single(Read(env, 1, GatewayTests.Timeout)).Event;
        Assert.Equal(("comment-added", GerritEventSource.Webhook, true), (published.Type, published.Source, published.Confirmed));
        Assert.Equal(("release-manager", (long?)approver.Id), (published.Author?.Username, published.Author?.AccountId));
        Assert.Null(published.Tag);
        Assert.Empty(Read(env, 2, TimeSpan.FromSeconds(3)).Skip(1)); // nothing forged reached the topic

        // The live stream is an authenticated channel: what it delivers is confirmed as it is.
        await env.Gerrit.CommentAsync(upload.ChangeNumber, "live");
        var live = Read(env, 2, GatewayTests.Timeout).Select(e => e.Event).Last();
        Assert.Equal((GerritEventSource.Stream, true), (live.Source, live.Confirmed));
    }

    private static string Edit(string json, Action<JsonObject> edit)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        edit(o);
        return o.ToJsonString();
    }

    private static async Task<HttpResponseMessage> PostAsync(ServiceProcess gateway, string body)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var deadline = DateTime.UtcNow + GatewayTests.Timeout;
        while (true)
        {
            try
            {
                return await http.PostAsync($"http://127.0.0.1:{gateway.Port}/webhooks/gerrit/{Token}", new StringContent(body, Encoding.UTF8, "application/json"));
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline) { await Task.Delay(200); }
        }
    }
}
