using Slipway.Contracts;

namespace Slipway.Tests.Unit.Contracts;

public sealed class ContractHelpersTests
{
    [Fact]
    public void Output_tail_keeps_the_last_lines()
    {
        var output = string.Join("\r\n", Enumerable.Range(1, 100).Select(i => $"line {i}")) + "\r\n\r\n";
        Assert.Equal("line 98\nline 99\nline 100", Output.Tail(output, 3));
        Assert.Equal(string.Join("\n", Enumerable.Range(51, 50).Select(i => $"line {i}")), Output.Tail(output));
        Assert.Equal("only", Output.Tail("only", 5));
        Assert.Equal("\nb", Output.Tail("\nb", 5));
        Assert.Null(Output.Tail(null));
        Assert.Null(Output.Tail("\n\n"));
    }

    [Fact]
    public void Output_tail_is_bounded()
    {
        var longLines = string.Join("\n", Enumerable.Range(1, 10).Select(i => new string((char)('a' + i), 3000)));
        var tail = Output.Tail(longLines, 10)!;
        Assert.True(tail.Length <= Output.TailMaxChars);
        Assert.Equal(new string('k', 3000), tail.Split('\n')[^1]);
        Assert.Equal(2, tail.Split('\n').Length);

        var oneHugeLine = "start" + new string('x', 20_000) + "end";
        var cut = Output.Tail(oneHugeLine)!;
        Assert.Equal(Output.TailMaxChars, cut.Length);
        Assert.EndsWith("end", cut);

        var emoji = string.Concat(Enumerable.Repeat("\U0001F680", 5000)); // surrogate pairs
        var cutEmoji = Output.Tail(emoji)!;
        Assert.True(cutEmoji.Length <= Output.TailMaxChars);
        Assert.False(char.IsLowSurrogate(cutEmoji[0]));
    }

    [Fact]
    public void Partition_keys()
    {
        Assert.Equal("mediawiki/services/citoid~1234", PartitionKeys.ForChange("mediawiki/services/citoid", 1234));
        Assert.Equal("foo~refs/heads/master", PartitionKeys.ForRef("foo", "refs/heads/master"));
        Assert.Equal(Samples.RunId, PartitionKeys.ForRun(Samples.RunId));
        Assert.Equal("mediawiki/services/citoid~1234", PartitionKeys.For(Samples.PatchsetCreated()));
        var refUpdated = Samples.PatchsetCreated() with
        {
            Type = "ref-updated", ChangeNumber = null, Ref = "refs/heads/master",
            RefUpdate = new GerritRefUpdate { RefName = "refs/heads/master", OldRev = Samples.Revision, NewRev = Samples.Revision },
        };
        Assert.Equal("mediawiki/services/citoid~refs/heads/master", PartitionKeys.For(refUpdated));
    }

    [Fact]
    public void Topics_and_run_scope()
    {
        Assert.Equal(Topics.GerritEvents, EventTypes.TopicOf("slipway.gerrit.event.v1"));
        Assert.Equal(Topics.PipelineEvents, EventTypes.TopicOf("slipway.run.started.v1"));
        Assert.False(EventTypes.IsRunScoped("slipway.gerrit.event.v1"));
        Assert.True(EventTypes.IsRunScoped("slipway.build.succeeded.v1"));
        Assert.Throws<ArgumentException>(() => EventTypes.IsRunScoped("slipway.nope.v1"));
    }
}
