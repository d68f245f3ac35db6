using System.Text;
using Slipway.Tester;
using Slipway.Tester.Testing;

namespace Slipway.Tests.Integration.Tester;

/// <summary>The tester's small parts: bounded output, the root policy, options validation, limit wording.</summary>
public sealed class TesterPartsTests
{
    [Fact]
    public void Bounded_output_keeps_only_the_most_recent_bytes()
    {
        var output = new BoundedOutput(16);
        output.Write("0123456789"u8);
        Assert.Equal("0123456789", output.Text());
        output.Write("abcdefghij"u8);
        Assert.Equal("456789abcdefghij", output.Text());
        output.Write(Encoding.UTF8.GetBytes(new string('x', 100) + "\nlast line"));
        Assert.Equal("xxxxxx\nlast line", output.Text());
        Assert.Equal(130, output.TotalBytes);
        Assert.Equal("last line", output.Tail(1));
    }

    [Fact]
    public void Bounded_output_drops_a_character_cut_by_the_ring()
    {
        var output = new BoundedOutput(5);
        output.Write(Encoding.UTF8.GetBytes("aé€b")); // a(1) é(2) €(3) b(1): the kept 5 bytes start inside é
        Assert.Equal("€b", output.Text());
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("root", true)]
    [InlineData("0", true)]
    [InlineData("0:0", true)]
    [InlineData("root:staff", true)]
    [InlineData("00", true)]
    [InlineData("+0", true)] // the engine runs `--user +0` as root
    [InlineData("-0:0", true)]
    [InlineData("+900", false)]
    [InlineData("900:900", false)]
    [InlineData("runuser", false)]
    [InlineData("10", false)]
    public void Root_users_are_recognised(string? user, bool root) => Assert.Equal(root, ImagePolicy.RunsAsRoot(user));

    [Fact]
    public void Options_validate_with_clear_messages()
    {
        Assert.Empty(new TesterOptions().Validate());
        var errors = new TesterOptions { Cpus = 0, MemoryBytes = 1, PidsLimit = 1, DefaultTimeLimitSeconds = 0 }.Validate().ToList();
        Assert.Contains(errors, e => e.StartsWith("Tester:Cpus"));
        Assert.Contains(errors, e => e.StartsWith("Tester:MemoryBytes"));
        Assert.Contains(errors, e => e.StartsWith("Tester:PidsLimit"));
        Assert.Contains(errors, e => e.StartsWith("Tester:DefaultTimeLimitSeconds"));
    }

    [Theory]
    [InlineData(20, "20s")]
    [InlineData(90, "90s")]
    [InlineData(1200, "20m")]
    [InlineData(3600, "1h")]
    [InlineData(5400, "1h30m")]
    [InlineData(125, "125s")]
    public void Limits_are_written_as_people_write_them(int seconds, string text) =>
        Assert.Equal(text, TestRunner.FormatLimit(TimeSpan.FromSeconds(seconds)));
}
