using Slipway.Contracts;
using Slipway.Tests.Integration.Support;
using static Slipway.Tests.Integration.Gerrit.GatewayTests;

namespace Slipway.Tests.Integration.Gerrit;

/// <summary>
/// A comment seen live is not published again by a catch-up whose REST answer dates the message a second apart from
/// the live event (a second `comment-added` would start a second recheck run), while the same words said again during
/// the outage are still published. Real stand-in (sshd stream, REST), real Postgres and Kafka.
/// </summary>
public sealed class GatewayCommentCatchUpTests
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Gateway__InitialBackoffSeconds"] = "0.2",
        ["Gateway__MaxBackoffSeconds"] = "2",
        ["Gateway__CatchUpOverlapSeconds"] = "300", // every event of the test is inside the overlap
    };

    private static List<GerritEvent> Comments(List<(string Key, GerritEvent Event)> events, string text) =>
        events.Where(e => e.Event.Type == "comment-added" && e.Event.Comment?.Contains(text, StringComparison.Ordinal) == true)
            .Select(e => e.Event).ToList();

    /// <summary>
    /// Every event on gerrit.events once <paramref name="done"/> holds and a duplicate has had time to come. The seen
    /// ids include copies recognised as duplicates (never published), so a read may wait out its timeout.
    /// </summary>
    private static async Task<List<(string Key, GerritEvent Event)>> SettledAsync(GerritServiceEnvironment env, string schema, Func<List<(string Key, GerritEvent Event)>, bool> done)
    {
        var deadline = DateTime.UtcNow + GatewayTests.Timeout;
        List<(string Key, GerritEvent Event)> events = [];
        while (DateTime.UtcNow < deadline)
        {
            events = Read(env, (int)await SeenAsync(schema), TimeSpan.FromSeconds(3));
            if (done(events)) break;
            await Task.Delay(500);
        }
        await Task.Delay(TimeSpan.FromSeconds(4)); // a duplicate would come now
        return Read(env, (int)await SeenAsync(schema), TimeSpan.FromSeconds(5));
    }

    private static async Task<ServiceProcess> RestartAfterCatchUpAsync(GerritServiceEnvironment env, string schema)
    {
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings);
        await WaitForConnectionsAsync(gateway, 1);
        var deadline = DateTime.UtcNow + GatewayTests.Timeout;
        while (!gateway.Output.Contains("missed ones published") && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Contains("missed ones published", gateway.Output);
        return gateway;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public async Task A_comment_seen_live_whose_REST_date_differs_by_a_second_is_published_once_and_the_same_words_said_again_are_published(int skewSeconds)
    {
        await using var env = await GerritServiceEnvironment.StartAsync();
        env.Gerrit.EventsLogEnabled = false;
        await env.Gerrit.CreateProjectAsync("demo/hello");
        var upload = await env.Gerrit.UploadPatchsetAsync("demo/hello", "master", new Dictionary<string, string?> { ["a"] = "a\n" }, "Change a");
        var schema = TestInfrastructure.UniqueName("gw_");
        var gateway = env.StartService("gerrit-gateway", "Slipway.GerritGateway", schema, Settings);
        await WaitForConnectionsAsync(gateway, 1);
        await CommentUntilLiveAsync(env, schema, upload.ChangeNumber);

        var text = $"recheck {Guid.NewGuid():N}";
        await env.Gerrit.CommentAsync(upload.ChangeNumber, text);
        var live = Assert.Single(Comments(await SettledAsync(env, schema, ev => Comments(ev, text).Count == 1), text));
        Assert.Equal(GerritEventSource.Stream, live.Source);

        gateway.KillHard();
        // Gerrit's REST answer dates this message a second apart from the live event's eventCreatedOn.
        Assert.Equal(1, await env.Gerrit.ShiftMessageDatesAsync(upload.ChangeNumber, text, TimeSpan.FromSeconds(skewSeconds)));
        // The same words said again while the gateway is down, a few seconds later (another second, so another id).
        while (DateTimeOffset.UtcNow.ToUnixTimeSeconds() < live.EventCreatedOn.ToUnixTimeSeconds() + 3) await Task.Delay(100);
        await env.Gerrit.CommentAsync(upload.ChangeNumber, text);

        var restarted = await RestartAfterCatchUpAsync(env, schema);
        var comments = Comments(await SettledAsync(env, schema, ev => Comments(ev, text).Count >= 2), text);
        Assert.True(comments.Count == 2, $"{comments.Count} comment-added for {text}: {string.Join(", ", comments.Select(c => $"{c.Source}@{c.EventCreatedOn:HH:mm:ss}"))}\n{restarted.Output}");
        Assert.Equal([GerritEventSource.Stream, GerritEventSource.RestCatchup], comments.Select(c => c.Source));
        Assert.True(comments[1].CaughtUp);

        // A second restart catches up over both again: nothing new.
        restarted.KillHard();
        var again = await RestartAfterCatchUpAsync(env, schema);
        comments = Comments(await SettledAsync(env, schema, _ => true), text);
        Assert.True(comments.Count == 2, $"{comments.Count} comment-added for {text} after the second restart\n{again.Output}");
    }
}
