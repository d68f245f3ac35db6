using Slipway.Contracts;

namespace Slipway.Tests.Unit.Contracts;

public sealed class DeterministicIdTests
{
    [Fact]
    public void Same_input_gives_the_same_id()
    {
        Assert.Equal(DeterministicId.From("run", "gerrit-event-1", "default"), DeterministicId.From("run", "gerrit-event-1", "default"));
    }

    [Fact]
    public void Known_value_never_changes()
    {
        // Run ids are stored by every service and used for dedup: this value must never change.
        Assert.Equal(KnownValue, DeterministicId.From("run", "gerrit-event-1", "default"));
    }

    [Fact]
    public void Is_a_version_5_uuid()
    {
        var id = Guid.Parse(DeterministicId.From("anything"));
        Assert.Equal(5, id.Version);
        Assert.Equal(0b10, id.Variant >> 2);
    }

    [Fact]
    public void Different_inputs_give_different_ids()
    {
        var ids = new[]
        {
            DeterministicId.From("run", "gerrit-event-1", "default"),
            DeterministicId.From("run", "gerrit-event-2", "default"),
            DeterministicId.From("run", "gerrit-event-1", "other"),
            // Part boundaries matter: ("ab","c") is not ("a","bc").
            DeterministicId.From("ab", "c"),
            DeterministicId.From("a", "bc"),
            DeterministicId.From("abc"),
            DeterministicId.From(""),
        };
        Assert.Equal(ids.Length, ids.Distinct().Count());
    }

    // Cross-checked with Python: uuid.uuid5(UUID("6f1c7f43-6a43-4f55-9d8e-1c1f0b7a9e21"), "run\x1fgerrit-event-1\x1fdefault").
    private const string KnownValue = "7e3dda1c-99af-51b7-99d8-1d060f9401ac";
}
