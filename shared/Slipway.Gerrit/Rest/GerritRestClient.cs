using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Slipway.Gerrit.Rest;

/// <summary>
/// The REST subset Slipway uses (gerrit.md §3): authenticated calls under <c>/a/</c> with HTTP
/// basic auth, Gerrit's <c>)]}'</c> prefix stripped, errors mapped to <see cref="GerritRestException"/>.
/// </summary>
public sealed class GerritRestClient
{
    private const string Xssi = ")]}'";
    private readonly HttpClient _http;
    private readonly Uri _base;

    public GerritRestClient(HttpClient http, string url, string user, string password)
    {
        _http = http;
        _base = new Uri(url.TrimEnd('/') + "/");
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    /// <summary>The preferred change id, <c>project~number</c>, URL-encoded (gerrit.md §3.2).</summary>
    public static string ChangeId(string project, int number) => Uri.EscapeDataString($"{project}~{number}");

    public Task<AccountInfo> GetSelfAsync(CancellationToken ct) => GetAsync<AccountInfo>("a/accounts/self", ct);

    public Task<ChangeInfo> GetChangeAsync(string project, int number, bool withMessages, CancellationToken ct) =>
        GetAsync<ChangeInfo>($"a/changes/{ChangeId(project, number)}" + (withMessages ? "?o=MESSAGES" : ""), ct);

    /// <summary>
    /// The change with its labels (who approved each) and detailed accounts (their tags, e.g. <c>SERVICE_USER</c>), and
    /// its submitter once merged: what PipelineLib read from the detail view, without the view's messages.
    /// </summary>
    public Task<ChangeInfo> GetChangeApprovalsAsync(string project, int number, CancellationToken ct) =>
        GetAsync<ChangeInfo>($"a/changes/{ChangeId(project, number)}?o=LABELS&o=DETAILED_ACCOUNTS", ct);

    /// <summary>The change with its messages, each with its author's account id, username and the message's tag.</summary>
    public Task<ChangeInfo> GetChangeMessagesAsync(string project, int number, CancellationToken ct) =>
        GetAsync<ChangeInfo>($"a/changes/{ChangeId(project, number)}?o=MESSAGES&o=DETAILED_ACCOUNTS", ct);

    public Task<List<ChangeInfo>> QueryAsync(string query, int limit, CancellationToken ct, params string[] options) =>
        GetAsync<List<ChangeInfo>>($"a/changes/?q={Uri.EscapeDataString(query)}&n={limit}" +
            string.Concat(options.Select(o => "&o=" + o)), ct);

    /// <summary>One page of a query (<c>S=</c> offset); the last change has <c>_more_changes</c> when there is more.</summary>
    public Task<List<ChangeInfo>> QueryPageAsync(string query, int limit, int start, CancellationToken ct, params string[] options) =>
        GetAsync<List<ChangeInfo>>($"a/changes/?q={Uri.EscapeDataString(query)}&n={limit}&S={start}" +
            string.Concat(options.Select(o => "&o=" + o)), ct);

    /// <summary>A branch's tip (<c>GET /projects/{project}/branches/{branch}</c>; read access is enough).</summary>
    public Task<BranchInfo> GetBranchAsync(string project, string branch, CancellationToken ct) =>
        GetAsync<BranchInfo>($"a/projects/{Uri.EscapeDataString(project)}/branches/{Uri.EscapeDataString(branch)}", ct);

    /// <summary>
    /// One page of a project's branches (<c>GET /projects/{project}/branches/?n=&amp;S=</c>; read access is enough):
    /// <c>HEAD</c>, <c>refs/meta/config</c> and <c>refs/heads/*</c> with their tips, sorted by ref.
    /// </summary>
    public Task<List<BranchInfo>> ListBranchesAsync(string project, int limit, int start, CancellationToken ct) =>
        GetAsync<List<BranchInfo>>($"a/projects/{Uri.EscapeDataString(project)}/branches/?n={limit}&S={start}", ct);

    /// <summary>One page of a project's tags (<c>GET /projects/{project}/tags/?n=&amp;S=</c>; read access is enough), sorted by ref.</summary>
    public Task<List<TagInfo>> ListTagsAsync(string project, int limit, int start, CancellationToken ct) =>
        GetAsync<List<TagInfo>>($"a/projects/{Uri.EscapeDataString(project)}/tags/?n={limit}&S={start}", ct);

    /// <summary>A commit with its parents (<c>GET /projects/{project}/commits/{commit}</c>).</summary>
    public Task<CommitInfo> GetCommitAsync(string project, string commit, CancellationToken ct) =>
        GetAsync<CommitInfo>($"a/projects/{Uri.EscapeDataString(project)}/commits/{Uri.EscapeDataString(commit)}", ct);

    /// <summary>
    /// The events-log plugin's events since <paramref name="since"/> (gerrit.md §4): one stream-events
    /// JSON object per line, no <c>)]}'</c> prefix. Null when the plugin is not installed (404).
    /// </summary>
    public async Task<string?> GetEventsLogAsync(DateTimeOffset since, CancellationToken ct)
    {
        var t1 = Uri.EscapeDataString(since.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            using var response = await SendAsync(() => _http.GetAsync(new Uri(_base, $"a/plugins/events-log/events/?t1={t1}"), ct), ct);
            return await response.Content.ReadAsStringAsync(ct);
        }
        catch (GerritRestException e) when (e.Status == HttpStatusCode.NotFound) { return null; }
    }

    public async Task SetReviewAsync(string project, int number, string revision, ReviewInput review, CancellationToken ct)
    {
        using var response = await SendAsync(() => _http.PostAsJsonAsync(
            new Uri(_base, $"a/changes/{ChangeId(project, number)}/revisions/{Uri.EscapeDataString(revision)}/review"), review, ct), ct);
    }

    private async Task<T> GetAsync<T>(string path, CancellationToken ct)
    {
        using var response = await SendAsync(() => _http.GetAsync(new Uri(_base, path), ct), ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (body.StartsWith(Xssi, StringComparison.Ordinal)) body = body[Xssi.Length..].TrimStart('\r', '\n');
        try
        {
            return JsonSerializer.Deserialize<T>(body) ?? throw new GerritRestException(response.StatusCode, $"GET {path}: empty answer");
        }
        catch (JsonException e) { throw new GerritRestException(response.StatusCode, $"GET {path}: not JSON: {e.Message}"); }
    }

    private static async Task<HttpResponseMessage> SendAsync(Func<Task<HttpResponseMessage>> send, CancellationToken ct)
    {
        HttpResponseMessage response;
        try { response = await send(); }
        catch (HttpRequestException e) { throw new GerritRestException(null, $"Gerrit unreachable: {e.Message}"); }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested) { throw new GerritRestException(null, "Gerrit timed out"); }
        if (response.IsSuccessStatusCode) return response;
        var text = await response.Content.ReadAsStringAsync(ct);
        var path = response.RequestMessage?.RequestUri?.AbsolutePath;
        response.Dispose();
        var status = response.StatusCode;
        var what = status switch
        {
            HttpStatusCode.Unauthorized => "authentication failed (check Gerrit:HttpUser and Gerrit:HttpPassword)",
            HttpStatusCode.Forbidden => "permission denied",
            _ => text.Length > 300 ? text[..300] : text.Trim(),
        };
        throw new GerritRestException(status, $"{(int)status} from {path}: {what}");
    }
}
