using Slipway.Publisher.Registry;

namespace Slipway.Tests.Integration.Publisher;

public class RetentionPolicyTests
{
    private static string D(int n) => "sha256:" + n.ToString("x64");
    private static string Sha(int n) => n.ToString("x40");

    [Fact]
    public void Keeps_the_newest_timestamp_tags_and_every_tag_on_their_manifests()
    {
        var tags = new Dictionary<string, string>
        {
            ["2026-11-20-100000-production"] = D(1), [Sha(1)] = D(1),
            ["2026-11-21-100000-production"] = D(2), [Sha(2)] = D(2), ["v1.0"] = D(2),
            ["2026-11-22-100000-production"] = D(3), [Sha(3)] = D(3),
            ["2026-11-23-100000-production"] = D(4), [Sha(4)] = D(4),
            ["hand-pushed"] = D(9), // no timestamp tag on its manifest: never Slipway's to delete
        };

        var plan = RetentionPolicy.Select(tags, keep: 2);

        Assert.Equal(["2026-11-23-100000-production", "2026-11-22-100000-production"], plan.KeptTimestampTags);
        Assert.Equal(new HashSet<string> { D(3), D(4) }, plan.KeepDigests);
        Assert.Equal(new HashSet<string> { D(1), D(2) }, plan.DeleteDigests.Keys.ToHashSet());
        Assert.Equal([Sha(2), "2026-11-21-100000-production", "v1.0"], plan.DeleteDigests[D(2)]);
        Assert.DoesNotContain("hand-pushed", plan.DeletedTags);
    }

    [Fact]
    public void Ordered_by_the_time_in_the_tag_not_by_name_or_stage()
    {
        var tags = new Dictionary<string, string>
        {
            ["2026-11-22-100000-a-stage"] = D(1),
            ["2026-11-21-100000-z-stage"] = D(2),
            ["2026-11-23-090000-production"] = D(3),
        };
        var plan = RetentionPolicy.Select(tags, keep: 1);
        Assert.Equal(["2026-11-23-090000-production"], plan.KeptTimestampTags);
        Assert.Equal([D(1), D(2)], plan.DeleteDigests.Keys.Order());
    }

    [Fact]
    public void A_manifest_with_an_old_and_a_new_timestamp_tag_is_kept()
    {
        var tags = new Dictionary<string, string>
        {
            ["2026-11-20-100000-production"] = D(1), // re-published later as the newest
            ["2026-11-21-100000-production"] = D(2),
            ["2026-11-22-100000-production"] = D(1),
        };
        var plan = RetentionPolicy.Select(tags, keep: 1);
        Assert.Equal([D(1)], plan.KeepDigests);
        Assert.Equal([D(2)], plan.DeleteDigests.Keys);
    }

    [Fact]
    public void Nothing_to_delete_within_the_limit_or_without_timestamp_tags()
    {
        Assert.Empty(RetentionPolicy.Select(new Dictionary<string, string> { ["2026-11-20-100000-production"] = D(1) }, 1).DeleteDigests);
        Assert.Empty(RetentionPolicy.Select(new Dictionary<string, string> { ["v1"] = D(1), ["v2"] = D(2) }, 1).DeleteDigests);
        Assert.Empty(RetentionPolicy.Select(new Dictionary<string, string>(), 5).DeleteDigests);
        Assert.Throws<ArgumentOutOfRangeException>(() => RetentionPolicy.Select(new Dictionary<string, string>(), 0));
    }
}
