using System.Text.Json;
using Slipway.Contracts;
using Slipway.Gerrit.Events;

namespace Slipway.Tests.Unit.Gerrit;

public sealed class GerritEventParserTests
{
    private static readonly DateTimeOffset Received = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private const string Sha1 = "3f7c8e2d9a1b4c5d6e7f8091a2b3c4d5e6f70819";
    private const string Sha2 = "aa7c8e2d9a1b4c5d6e7f8091a2b3c4d5e6f708bb";
    private const string ChangeId = "I54ac9b7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60";

    // Shaped as real 3.x output (gerrit.md §1, "Minimal synthetic example").
    private const string PatchsetCreated = """
        {"uploader":{"name":"Ada","email":"ada@example.org","username":"ada"},
         "patchSet":{"number":2,"revision":"3f7c8e2d9a1b4c5d6e7f8091a2b3c4d5e6f70819","parents":["aa7c8e2d9a1b4c5d6e7f8091a2b3c4d5e6f708bb"],
           "ref":"refs/changes/01/1/2","uploader":{"name":"Ada","username":"ada"},"createdOn":1686214672,
           "author":{"name":"Ada","email":"ada@example.org","username":"ada"},"kind":"REWORK","sizeInsertions":9,"sizeDeletions":-18},
         "change":{"project":"repo1","branch":"master","id":"I54ac9b7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60","number":1,"subject":"Add a thing",
           "owner":{"name":"Ada"},"url":"http://host/c/repo1/+/1","commitMessage":"Add a thing\n\nChange-Id: I54ac9b7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60\n",
           "createdOn":1686214672,"status":"NEW","wip":true},
         "project":"repo1","refName":"refs/heads/master","changeKey":{"id":"I54ac9b7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60"},
         "type":"patchset-created","eventCreatedOn":1686214672,"instanceId":"primary"}
        """;

    [Fact]
    public void A_patchset_created_line_is_normalized_with_its_raw_json_kept()
    {
        var e = GerritEventParser.Parse(PatchsetCreated.ReplaceLineEndings(""), GerritEventSource.Stream, Received);

        Assert.Equal("patchset-created", e.Type);
        Assert.Equal("repo1", e.Project);
        Assert.Equal("master", e.Branch);
        Assert.Equal(1, e.ChangeNumber);
        Assert.Equal(ChangeId, e.ChangeId);
        Assert.Equal(2, e.PatchSetNumber);
        Assert.Equal(Sha1, e.Revision);
        Assert.Equal("refs/changes/01/1/2", e.Ref);
        Assert.Equal("Add a thing", e.Subject);
        Assert.Equal("http://host/c/repo1/+/1", e.ChangeUrl);
        Assert.Equal(new Account { Name = "Ada", Email = "ada@example.org", Username = "ada" }, e.Uploader);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1686214672), e.EventCreatedOn);
        Assert.Equal("primary", e.InstanceId);
        Assert.False(e.CaughtUp);
        Assert.Equal(GerritEventSource.Stream, e.Source);
        Assert.Equal(-18, e.Raw.GetProperty("patchSet").GetProperty("sizeDeletions").GetInt32());
        Assert.Equal((true, false), GerritEventParser.ChangeFlags(e.Raw));
        Assert.Equal("REWORK", GerritEventParser.PatchSetKind(e.Raw));
        Assert.Equal("repo1~1", PartitionKeys.For(e));
    }

    [Fact]
    public void A_ref_updated_event_has_no_change_and_is_keyed_by_project_and_ref()
    {
        var line = $$"""{"submitter":{"name":"Bot","username":"bot"},"refUpdate":{"oldRev":"{{Sha2}}","newRev":"{{Sha1}}","refName":"refs/heads/master","project":"repo1"},"type":"ref-updated","eventCreatedOn":1686214700}""";
        var e = GerritEventParser.Parse(line, GerritEventSource.Stream, Received);

        Assert.Equal("repo1", e.Project);
        Assert.Null(e.ChangeNumber);
        Assert.Equal(new GerritRefUpdate { RefName = "refs/heads/master", OldRev = Sha2, NewRev = Sha1 }, e.RefUpdate);
        Assert.Equal("refs/heads/master", e.Ref);
        Assert.Equal(new Account { Name = "Bot", Username = "bot" }, e.Submitter);
        Assert.Equal("repo1~refs/heads/master", PartitionKeys.For(e));
    }

    [Fact]
    public void Variants_of_real_servers_are_accepted()
    {
        // project as {"name":..}, changeKey as {"key":..}, numbers as strings (old servers), lowercase patchset (pre-2.15).
        var line = $$"""{"submitter":{"name":"A"},"newRev":"{{Sha1}}","patchset":{"number":"3","revision":"{{Sha1}}","ref":"refs/changes/42/42/3"},"change":{"branch":"main","number":"42","subject":"x"},"project":{"name":"snix"},"changeKey":{"key":"{{ChangeId}}"},"type":"change-merged","eventCreatedOn":1686214700}""";
        var e = GerritEventParser.Parse(line, GerritEventSource.EventsLog, Received, caughtUp: true);

        Assert.Equal("snix", e.Project);
        Assert.Equal(ChangeId, e.ChangeId);
        Assert.Equal(42, e.ChangeNumber);
        Assert.Equal(3, e.PatchSetNumber);
        Assert.Equal(Sha1, e.NewRev);
        Assert.True(e.CaughtUp);
        Assert.Equal(GerritEventSource.EventsLog, e.Source);
    }

    [Fact]
    public void Unknown_types_pass_through_unchanged_and_a_missing_time_takes_the_receipt_time()
    {
        const string line = """{"type":"ref-replicated","project":"repo1","ref":"refs/heads/master","targetUri":"ssh://mirror","status":"succeeded","extra":{"nested":[1,2,3]}}""";
        var e = GerritEventParser.Parse(line, GerritEventSource.Stream, Received);

        Assert.Equal("ref-replicated", e.Type);
        Assert.Equal("repo1", e.Project);
        Assert.Equal(Received, e.EventCreatedOn);
        Assert.Equal(JsonSerializer.Serialize(JsonDocument.Parse(line).RootElement), JsonSerializer.Serialize(e.Raw));
    }

    [Theory]
    [InlineData("", "not JSON: ")]
    [InlineData("{not json", "not JSON: ")]
    [InlineData("[1,2]", "not a JSON object")]
    [InlineData("""{"change":{}}""", "no 'type'")]
    [InlineData("""{"type":"Robert'); DROP TABLE"}""", "'type' is not an event type name")]
    public void Malformed_lines_are_refused_with_the_reason(string line, string expectedStart)
    {
        var error = Assert.Throws<GerritEventFormatException>(() => GerritEventParser.Parse(line, GerritEventSource.Stream, Received));
        Assert.StartsWith(expectedStart, error.Message);
    }

    [Fact]
    public void Huge_and_deeply_nested_lines_are_refused_before_parsing()
    {
        var huge = "{\"type\":\"x\",\"pad\":\"" + new string('a', GerritEventLimits.MaxLineLength) + "\"}";
        Assert.Equal($"line of {huge.Length} characters exceeds the limit of {GerritEventLimits.MaxLineLength}",
            Assert.Throws<GerritEventFormatException>(() => GerritEventParser.Parse(huge, GerritEventSource.Stream, Received)).Message);

        var deep = "{\"type\":\"x\",\"a\":" + string.Concat(Enumerable.Repeat("[", 100)) + string.Concat(Enumerable.Repeat("]", 100)) + "}";
        Assert.StartsWith("not JSON: ", Assert.Throws<GerritEventFormatException>(() => GerritEventParser.Parse(deep, GerritEventSource.Stream, Received)).Message);
    }

    [Fact]
    public void Invalid_shas_and_change_ids_are_dropped_from_the_normalized_fields_not_trusted()
    {
        const string line = """{"patchSet":{"number":1,"revision":"../../etc/passwd","ref":"refs/changes/01/1/1"},"change":{"project":"p","number":1,"id":"not-a-change-id"},"type":"patchset-created","eventCreatedOn":1}""";
        var e = GerritEventParser.Parse(line, GerritEventSource.Stream, Received);
        Assert.Null(e.Revision);
        Assert.Null(e.ChangeId);
    }

    [Fact]
    public void The_same_event_from_any_source_gets_the_same_id_and_different_events_different_ids()
    {
        var live = GerritEventParser.Parse(PatchsetCreated, GerritEventSource.Stream, Received);
        var replayed = GerritEventParser.Parse(PatchsetCreated.Replace("\"eventCreatedOn\":1686214672", "\"eventCreatedOn\":1686214999"),
            GerritEventSource.RestCatchup, Received.AddMinutes(5), caughtUp: true);
        var nextPatchset = GerritEventParser.Parse(PatchsetCreated.Replace("\"number\":2", "\"number\":3"), GerritEventSource.Stream, Received);

        Assert.Equal(GerritEventIdentity.IdOf(live), GerritEventIdentity.IdOf(replayed));
        Assert.NotEqual(GerritEventIdentity.IdOf(live), GerritEventIdentity.IdOf(nextPatchset));
    }

    [Fact]
    public void Two_identical_recheck_comments_at_different_times_are_different_events()
    {
        string Comment(long at) => $$"""{"author":{"username":"ada"},"comment":"Patch Set 1:\n\nrecheck","patchSet":{"number":1,"revision":"{{Sha1}}"},"change":{"project":"p","number":7},"type":"comment-added","eventCreatedOn":{{at}}}""";
        var first = GerritEventParser.Parse(Comment(100), GerritEventSource.Stream, Received);
        var again = GerritEventParser.Parse(Comment(100), GerritEventSource.Webhook, Received);
        var later = GerritEventParser.Parse(Comment(200), GerritEventSource.Stream, Received);

        Assert.Equal(GerritEventIdentity.IdOf(first), GerritEventIdentity.IdOf(again));
        Assert.NotEqual(GerritEventIdentity.IdOf(first), GerritEventIdentity.IdOf(later));
        Assert.Equal("Patch Set 1:\n\nrecheck", first.Comment);
    }
}
