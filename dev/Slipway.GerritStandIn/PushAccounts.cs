using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Slipway.GerritStandIn;

/// <summary>HTTP passwords of the stand-in's accounts (Gerrit's per-account HTTP credentials) and who may push directly.</summary>
public sealed partial class GerritStandIn
{
    private readonly Dictionary<string, string> _httpPasswords = new(StringComparer.Ordinal); // username → password
    private readonly HashSet<(string Username, string? Project)> _directPush = [];

    /// <summary>The HTTP password of <see cref="Developer"/> (default uploader), for `git push` and REST as that account.</summary>
    public string? DeveloperHttpPassword => PasswordOf(Developer.Username);

    /// <summary>Sets (or replaces) an account's HTTP password, used for git over HTTP and `/a/` REST.</summary>
    public void SetHttpPassword(GerritAccount account, string password)
    {
        if (string.IsNullOrEmpty(password)) throw new ArgumentException("an HTTP password must not be empty", nameof(password));
        lock (_httpPasswords) _httpPasswords[account.Username] = password;
    }

    /// <summary>
    /// Lets <paramref name="account"/> push straight to branches and tags (`refs/heads/*`, `refs/tags/*`) of
    /// <paramref name="project"/>, or of every project when it is null (Gerrit's Push permission on `refs/heads/*`).
    /// Everyone else can only push for review (`refs/for/*`).
    /// </summary>
    public void AllowDirectPush(GerritAccount account, string? project = null)
    {
        lock (_directPush) _directPush.Add((account.Username, project));
    }

    private bool MayPushDirectly(GerritAccount account, string project)
    {
        lock (_directPush) return _directPush.Contains((account.Username, null)) || _directPush.Contains((account.Username, project));
    }

    private string? PasswordOf(string username)
    {
        lock (_httpPasswords)
            if (_httpPasswords.TryGetValue(username, out var set)) return set;
        if (username == _options.HttpUser) return _options.HttpPassword;
        if (username == Developer.Username) return _options.DeveloperHttpPassword;
        return null;
    }

    /// <summary>The account whose HTTP password this is, or null (constant-time comparison).</summary>
    private GerritAccount? AccountWithPassword(string username, string password)
    {
        if (PasswordOf(username) is not { } expected ||
            !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(expected))) return null;
        lock (_accounts) return _accounts.GetValueOrDefault(username);
    }

    /// <summary>Control API for accounts: `POST /_standin/accounts` and `POST /_standin/direct-push`. False when not one of these.</summary>
    private async Task<bool> AccountControlAsync(HttpContext ctx, List<string> segs)
    {
        if (ctx.Request.Method != "POST" || segs is not (["accounts"] or ["direct-push"])) return false;
        JsonObject body;
        using (var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8))
        {
            try { body = JsonNode.Parse(await reader.ReadToEndAsync(ctx.RequestAborted)) as JsonObject ?? throw new StandInException(400, "expected a JSON object"); }
            catch (System.Text.Json.JsonException e) { throw new StandInException(400, "invalid JSON: " + e.Message); }
        }
        string Required(string key) => body[key]?.GetValue<string>() is { Length: > 0 } v ? v : throw new StandInException(400, $"{key} is required");
        if (segs[0] == "accounts")
        {
            var account = AddAccount(Required("name"), Required("email"), Required("username"));
            if (body["httpPassword"]?.GetValue<string>() is { Length: > 0 } password) SetHttpPassword(account, password);
            await PlainJsonAsync(ctx, 201, new JsonObject { ["id"] = account.Id, ["username"] = account.Username });
            return true;
        }
        GerritAccount? who;
        lock (_accounts) who = _accounts.GetValueOrDefault(Required("username"));
        if (who is null) throw new StandInException(404, "no such account");
        AllowDirectPush(who, body["project"]?.GetValue<string>());
        await PlainJsonAsync(ctx, 200, new JsonObject { ["username"] = who.Username, ["project"] = body["project"]?.GetValue<string>() });
        return true;
    }
}
