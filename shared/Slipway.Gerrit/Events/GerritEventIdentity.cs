using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Slipway.Contracts;

namespace Slipway.Gerrit.Events;

/// <summary>
/// Gerrit's events carry no id, so the gateway derives one from what makes each event unique
/// (a patch set is created once; a ref moves from one SHA to another once). The same event
/// seen live, from the events-log plugin, from a webhook or rebuilt from a REST query after an
/// outage gets the same id, which is how duplicates are dropped across all of them.
/// </summary>
public static class GerritEventIdentity
{
    public static string IdOf(GerritEvent e) => DeterministicId.From(NaturalKey(e));

    /// <summary>The parts that identify the event (exposed for tests and diagnostics).</summary>
    public static string[] NaturalKey(GerritEvent e) => e.Type switch
    {
        "patchset-created" or "draft-published" when e.ChangeNumber is { } change && e.PatchSetNumber is { } ps =>
            ["gerrit", e.Type, e.Project ?? "", change.ToString(), ps.ToString(), e.Revision ?? ""],
        "change-merged" when e.ChangeNumber is { } change =>
            ["gerrit", e.Type, e.Project ?? "", change.ToString(), e.NewRev ?? e.Revision ?? ""],
        "ref-updated" when e.RefUpdate is { } r =>
            ["gerrit", e.Type, e.Project ?? "", r.RefName, r.OldRev, r.NewRev],
        "comment-added" when e.ChangeNumber is { } change =>
            ["gerrit", e.Type, e.Project ?? "", change.ToString(), e.PatchSetNumber?.ToString() ?? "",
             e.Author?.Username ?? e.Author?.Email ?? e.Author?.Name ?? "", e.EventCreatedOn.ToUnixTimeSeconds().ToString(),
             Hash(e.Comment ?? "")],
        _ when e.ChangeNumber is { } change =>
            ["gerrit", e.Type, e.Project ?? "", change.ToString(), e.PatchSetNumber?.ToString() ?? "",
             e.EventCreatedOn.ToUnixTimeSeconds().ToString()],
        // No natural key known: the exact bytes identify it (only a byte-identical re-delivery is a duplicate).
        _ => ["gerrit", e.Type, Hash(JsonSerializer.Serialize(e.Raw))],
    };

    private static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];
}
