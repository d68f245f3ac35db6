using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Slipway.Contracts;

namespace Slipway.Gerrit.Events;

/// <summary>
/// Turns one line of Gerrit's stream-events output (or an events-log/webhook body) into a
/// normalized <see cref="GerritEvent"/>, keeping the original JSON in <c>raw</c> so unknown types
/// pass through unchanged. Tolerates the variants real servers emit (gerrit.md §1): project as a
/// string or <c>{"name":..}</c>, numbers as strings, negative <c>sizeDeletions</c>, missing fields.
/// </summary>
public static partial class GerritEventParser
{
    public static GerritEvent Parse(string line, GerritEventSource source, DateTimeOffset receivedAt, bool caughtUp = false)
    {
        if (line.Length > GerritEventLimits.MaxLineLength)
            throw new GerritEventFormatException($"line of {line.Length} characters exceeds the limit of {GerritEventLimits.MaxLineLength}");
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = GerritEventLimits.MaxDepth });
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new GerritEventFormatException($"not JSON: {e.Message}");
        }
        return Parse(root, source, receivedAt, caughtUp);
    }

    public static GerritEvent Parse(JsonElement root, GerritEventSource source, DateTimeOffset receivedAt, bool caughtUp = false)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new GerritEventFormatException("not a JSON object");
        var type = String(root, "type");
        if (string.IsNullOrWhiteSpace(type)) throw new GerritEventFormatException("no 'type'");
        if (type.Length > 100 || !TypePattern().IsMatch(type)) throw new GerritEventFormatException($"'type' is not an event type name");

        var change = Object(root, "change");
        var patchSet = Object(root, "patchSet") ?? Object(root, "patchset"); // pre-2.15 spelling
        var refUpdate = Object(root, "refUpdate");
        var project = (change is { } c ? String(c, "project") : null) ?? ProjectName(root) ?? (refUpdate is { } r ? String(r, "project") : null);
        var changeId = (change is { } c2 ? String(c2, "id") : null) ?? ChangeKey(root);
        var created = Int(root, "eventCreatedOn") is { } secs ? DateTimeOffset.FromUnixTimeSeconds(secs) : receivedAt;

        return new GerritEvent
        {
            Type = type,
            Project = project,
            Branch = change is { } c3 ? String(c3, "branch") : ShortBranch(String(root, "refName")),
            ChangeNumber = change is { } c4 ? (int?)Int(c4, "number") : null,
            ChangeId = changeId is not null && ChangeIdPattern().IsMatch(changeId) ? changeId : null,
            PatchSetNumber = patchSet is { } p ? (int?)Int(p, "number") : null,
            Revision = patchSet is { } p2 ? Sha(String(p2, "revision")) : null,
            Ref = patchSet is { } p3 ? String(p3, "ref") : refUpdate is { } r2 ? String(r2, "refName") : null,
            RefUpdate = refUpdate is { } r3 && String(r3, "refName") is { } refName
                        && Sha(String(r3, "oldRev")) is { } oldRev && Sha(String(r3, "newRev")) is { } newRev
                ? new GerritRefUpdate { RefName = refName, OldRev = oldRev, NewRev = newRev }
                : null,
            NewRev = type == "change-merged" ? Sha(String(root, "newRev")) : null,
            Comment = Truncate(String(root, "comment")),
            Tag = Truncate(String(root, "tag"), 256),
            Subject = change is { } c5 ? Truncate(String(c5, "subject")) : null,
            ChangeUrl = change is { } c6 ? String(c6, "url") : null,
            Author = Account(root, "author") ?? (patchSet is { } p4 ? Account(p4, "author") : null),
            Uploader = Account(root, "uploader") ?? (patchSet is { } p5 ? Account(p5, "uploader") : null),
            Submitter = Account(root, "submitter"),
            EventCreatedOn = created,
            CaughtUp = caughtUp,
            Source = source,
            // Every channel but the webhook is authenticated (SSH stream; REST for events-log and catch-up). A webhook
            // event is confirmed only by the gateway checking it against Gerrit's REST API.
            Confirmed = source != GerritEventSource.Webhook,
            InstanceId = String(root, "instanceId"),
            Raw = root,
        };
    }

    /// <summary>WIP and private flags, which the trigger rules need; absent means false (Gerrit omits false).</summary>
    public static (bool Wip, bool Private) ChangeFlags(JsonElement raw) =>
        Object(raw, "change") is { } c ? (Bool(c, "wip"), Bool(c, "private")) : (false, false);

    /// <summary>The patch set's kind (REWORK, TRIVIAL_REBASE, NO_CODE_CHANGE, ...), when Gerrit sent it.</summary>
    public static string? PatchSetKind(JsonElement raw) =>
        (Object(raw, "patchSet") ?? Object(raw, "patchset")) is { } p ? String(p, "kind") : null;

    private static string? ProjectName(JsonElement root) =>
        root.TryGetProperty("project", out var p)
            ? p.ValueKind switch
            {
                JsonValueKind.String => p.GetString(),
                JsonValueKind.Object => String(p, "name"),
                _ => null,
            }
            : String(root, "projectName");

    private static string? ChangeKey(JsonElement root) =>
        Object(root, "changeKey") is { } k ? String(k, "id") ?? String(k, "key") : null;

    private static string? ShortBranch(string? refName) =>
        refName is null ? null : refName.StartsWith("refs/heads/", StringComparison.Ordinal) ? refName["refs/heads/".Length..] : null;

    private static Account? Account(JsonElement parent, string name)
    {
        if (Object(parent, name) is not { } a) return null;
        var account = new Account { Name = Truncate(String(a, "name"), 256), Email = Truncate(String(a, "email"), 256), Username = Truncate(String(a, "username"), 256) };
        return account.Name is null && account.Email is null && account.Username is null ? null : account;
    }

    private static JsonElement? Object(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v : null;

    private static string? String(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Bool(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    /// <summary>A positive int, whether sent as a number or (old servers) as a string.</summary>
    private static long? Int(JsonElement parent, string name)
    {
        if (!parent.TryGetProperty(name, out var v)) return null;
        long n;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out n)) return n > 0 && n <= int.MaxValue || name == "eventCreatedOn" && n > 0 ? n : null;
        if (v.ValueKind == JsonValueKind.String && long.TryParse(v.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out n))
            return n > 0 && n <= int.MaxValue || name == "eventCreatedOn" && n > 0 ? n : null;
        return null;
    }

    private static string? Sha(string? value) => value is not null && ShaPattern().IsMatch(value) ? value : null;

    private static string? Truncate(string? value, int max = GerritEventLimits.MaxTextLength) =>
        value is null || value.Length <= max ? value : value[..max];

    [GeneratedRegex("^[a-z][a-z0-9-]*$")]
    private static partial Regex TypePattern();

    [GeneratedRegex(ContractPatterns.GitSha)]
    private static partial Regex ShaPattern();

    [GeneratedRegex(ContractPatterns.ChangeId)]
    private static partial Regex ChangeIdPattern();
}
