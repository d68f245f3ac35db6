using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Slipway.Contracts;
using Microsoft.Extensions.Logging;
using Slipway.Containers;

namespace Slipway.Publisher.Registry;

/// <summary>
/// The Docker Registry HTTP API v2 (what every OCI registry serves) for what the publisher needs:
/// manifest digests, tag lists and manifest deletes. Authenticates as the registry asks: HTTP basic
/// (distribution with htpasswd, the embedded registry) or the Bearer token flow (a <c>401</c> with
/// <c>WWW-Authenticate: Bearer realm=…</c>, as production registries answer). Credentials are only
/// sent in answer to a challenge, and never logged.
/// </summary>
public sealed partial class RegistryClient
{
    /// <summary>Every manifest kind Slipway understands, so the registry serves (and digests) it as pushed.</summary>
    public static readonly IReadOnlyList<string> ManifestMediaTypes =
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ];

    private const int MaxManifestBytes = 4 * 1024 * 1024;
    private const int MaxTagPages = 1000;

    private readonly HttpClient _http;
    private readonly RegistryOptions _options;
    private readonly ILogger<RegistryClient> _logger;
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset Expires)> _tokens = new();
    private volatile string? _scheme; // "Basic" or "Bearer", once the registry has asked for one

    public RegistryClient(HttpClient http, RegistryOptions options, ILogger<RegistryClient> logger)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Url)) throw new ArgumentException("Registry:Url is required", nameof(options));
        _http = http;
        _options = options;
        _logger = logger;
        (BaseUri, Host) = ParseUrl(options.Url);
    }

    /// <summary>Where the API is, e.g. <c>http://127.0.0.1:5000/</c>.</summary>
    public Uri BaseUri { get; }

    /// <summary>The registry as image references name it, e.g. <c>127.0.0.1:5000</c> or <c>registry.example.org</c>.</summary>
    public string Host { get; }

    /// <summary>The user the client authenticates as (for messages; never the password).</summary>
    public string? Username => _options.Username;

    /// <summary>
    /// <c>host[:port]</c> → http for 127.0.0.1/localhost/::1, https otherwise; an explicit
    /// <c>http://</c> or <c>https://</c> is honoured. Returns the API base and the host for image references.
    /// </summary>
    public static (Uri BaseUri, string Host) ParseUrl(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var trimmed = url.Trim().TrimEnd('/');
        var explicitScheme = trimmed.Contains("://", StringComparison.Ordinal);
        if (!Uri.TryCreate(explicitScheme ? trimmed : "https://" + trimmed, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https") || uri.AbsolutePath.Trim('/').Length > 0
            || uri.UserInfo.Length > 0 || uri.Query.Length > 0)
            throw new ArgumentException($"registry url '{url}' is invalid (want host[:port] or http(s)://host[:port])", nameof(url));
        var scheme = explicitScheme ? uri.Scheme : uri.IsLoopback ? "http" : "https";
        var builder = new UriBuilder(uri) { Scheme = scheme, Port = uri.IsDefaultPort ? -1 : uri.Port, Path = "/" };
        var baseUri = builder.Uri;
        return (baseUri, uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}");
    }

    /// <summary>
    /// The digest of <paramref name="repository"/>:<paramref name="reference"/> (a tag or digest) as the
    /// registry stores it (<c>Docker-Content-Digest</c> of a HEAD), or null when there is no such manifest.
    /// </summary>
    public async Task<string?> GetManifestDigestAsync(string repository, string reference, CancellationToken ct = default)
    {
        var path = ManifestPath(repository, reference);
        using var response = await SendAsync(HttpMethod.Head, path, PullScope(repository), manifestAccept: true, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureSuccessAsync(response, HttpMethod.Head, path, $"to read {repository}", ct);
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var values) && values.FirstOrDefault() is { Length: > 0 } digest)
            return digest;
        // Some registries omit the header on HEAD: the manifest's bytes say it too.
        return (await GetManifestAsync(repository, reference, ct))?.Digest;
    }

    /// <summary>The manifest of <paramref name="repository"/>:<paramref name="reference"/>, or null when there is none.</summary>
    public async Task<RegistryManifest?> GetManifestAsync(string repository, string reference, CancellationToken ct = default)
    {
        var path = ManifestPath(repository, reference);
        using var response = await SendAsync(HttpMethod.Get, path, PullScope(repository), manifestAccept: true, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureSuccessAsync(response, HttpMethod.Get, path, $"to read {repository}", ct);

        if (response.Content.Headers.ContentLength > MaxManifestBytes)
            throw new RegistryException($"registry {Host}: manifest {repository}:{reference} is larger than {MaxManifestBytes} bytes");
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        if (body.Length > MaxManifestBytes)
            throw new RegistryException($"registry {Host}: manifest {repository}:{reference} is larger than {MaxManifestBytes} bytes");

        var digest = response.Headers.TryGetValues("Docker-Content-Digest", out var values) && values.FirstOrDefault() is { Length: > 0 } d
            ? d
            : "sha256:" + Convert.ToHexString(SHA256.HashData(body)).ToLowerInvariant();
        string? mediaType = response.Content.Headers.ContentType?.MediaType;
        string? configDigest = null;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object)
            {
                if (json.RootElement.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String) mediaType = mt.GetString();
                if (json.RootElement.TryGetProperty("config", out var config) && config.ValueKind == JsonValueKind.Object
                    && config.TryGetProperty("digest", out var cd) && cd.ValueKind == JsonValueKind.String)
                    configDigest = cd.GetString();
            }
        }
        catch (JsonException e)
        {
            throw new RegistryException($"registry {Host}: manifest {repository}:{reference} is not JSON ({e.Message})", inner: e);
        }
        return new RegistryManifest(digest, mediaType ?? "", configDigest) { Body = body };
    }

    /// <summary>
    /// Tags <paramref name="manifest"/> (read with <see cref="GetManifestAsync"/> from the same repository) as
    /// <paramref name="tag"/>: its bytes PUT back unchanged, so the registry stores the same digest and no layer moves.
    /// Returns the digest the registry answered.
    /// </summary>
    public async Task<string> PutManifestAsync(string repository, string tag, RegistryManifest manifest, CancellationToken ct = default)
    {
        PublishTags.Validate(tag);
        if (manifest.Body is not { Length: > 0 } body || manifest.MediaType.Length == 0)
            throw new ArgumentException("the manifest's bytes and media type are needed to tag it", nameof(manifest));
        var path = ManifestPath(repository, tag);
        using var response = await SendAsync(HttpMethod.Put, path, $"repository:{repository}:pull,push", manifestAccept: false, ct, () =>
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
            return content;
        });
        await EnsureSuccessAsync(response, HttpMethod.Put, path, $"to push to {repository}", ct);
        return response.Headers.TryGetValues("Docker-Content-Digest", out var values) && values.FirstOrDefault() is { Length: > 0 } digest
            ? digest
            : manifest.Digest;
    }

    /// <summary>Every tag of <paramref name="repository"/> (following <c>Link</c> pagination); empty when the repository is unknown.</summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken ct = default)
    {
        PublishTags.ValidateRepository(repository);
        var tags = new List<string>();
        var path = $"v2/{repository}/tags/list?n=1000";
        for (var page = 0; path is not null; page++)
        {
            if (page >= MaxTagPages) throw new RegistryException($"registry {Host}: more than {MaxTagPages} pages of tags for {repository}");
            using var response = await SendAsync(HttpMethod.Get, path, PullScope(repository), manifestAccept: false, ct);
            if (response.StatusCode == HttpStatusCode.NotFound) break; // NAME_UNKNOWN: no tags (yet, or any more)
            await EnsureSuccessAsync(response, HttpMethod.Get, path, $"to list the tags of {repository}", ct);

            using (var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(ct)))
                if (json.RootElement.TryGetProperty("tags", out var list) && list.ValueKind == JsonValueKind.Array)
                    foreach (var tag in list.EnumerateArray())
                        if (tag.GetString() is { Length: > 0 } t) tags.Add(t);

            path = NextPage(response);
        }
        return tags;
    }

    /// <summary>
    /// Deletes the manifest <paramref name="digest"/> of <paramref name="repository"/>, and with it every tag
    /// pointing at it. True when deleted, false when it was not there (already deleted: idempotent).
    /// </summary>
    public async Task<bool> DeleteManifestAsync(string repository, string digest, CancellationToken ct = default)
    {
        if (!DigestPattern().IsMatch(digest ?? "")) throw new ArgumentException($"'{digest}' is not a digest (want sha256:<64 hex>)", nameof(digest));
        var path = ManifestPath(repository, digest!);
        using var response = await SendAsync(HttpMethod.Delete, path, $"repository:{repository}:delete", manifestAccept: true, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        if (response.StatusCode == HttpStatusCode.MethodNotAllowed)
            throw new RegistryException($"registry {Host} does not allow deleting manifests (405; the distribution registry needs storage.delete.enabled: true)", response.StatusCode);
        await EnsureSuccessAsync(response, HttpMethod.Delete, path, $"to delete manifests of {repository}", ct);
        _logger.LogInformation("Deleted manifest {Repository}@{Digest} from {Registry}", repository, digest, Host);
        return true;
    }

    private static string PullScope(string repository) => $"repository:{repository}:pull";

    private static string ManifestPath(string repository, string reference)
    {
        PublishTags.ValidateRepository(repository);
        ArgumentNullException.ThrowIfNull(reference);
        if (!DigestPattern().IsMatch(reference)) PublishTagsReference(reference);
        return $"v2/{repository}/manifests/{reference}";
    }

    // A tag as a reference: the grammar only ('latest' may be read, just never pushed).
    private static void PublishTagsReference(string reference)
    {
        if (!TagReference().IsMatch(reference))
            throw new ArgumentException($"'{reference}' is neither a tag nor a digest", nameof(reference));
    }

    private string? NextPage(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links)) return null;
        foreach (var link in links)
        {
            var match = NextLink().Match(link);
            if (!match.Success) continue;
            var next = new Uri(BaseUri, match.Groups[1].Value);
            // Credentials go to this registry only.
            if (!string.Equals(next.Authority, BaseUri.Authority, StringComparison.OrdinalIgnoreCase) || next.Scheme != BaseUri.Scheme)
                throw new RegistryException($"registry {Host}: tag list pagination points at another host ({next.Authority})");
            return next.PathAndQuery.TrimStart('/');
        }
        return null;
    }

    // content: a fresh body per attempt (a request answered 401 is sent again with credentials).
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string scope, bool manifestAccept, CancellationToken ct,
        Func<HttpContent>? content = null)
    {
        var sentBearer = false;
        AuthenticationHeaderValue? authorization = null;
        if (_scheme == "Basic") authorization = BasicHeader();
        else if (_scheme == "Bearer" && _tokens.TryGetValue(scope, out var cached) && cached.Expires > DateTimeOffset.UtcNow)
        {
            authorization = new AuthenticationHeaderValue("Bearer", cached.Token);
            sentBearer = true;
        }

        var response = await SendOnceAsync(method, path, manifestAccept, authorization, ct, content);
        if (response.StatusCode != HttpStatusCode.Unauthorized) return response;

        var challenges = response.Headers.WwwAuthenticate.ToList();
        response.Dispose();
        var bearer = challenges.FirstOrDefault(c => c.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase));
        var basic = challenges.FirstOrDefault(c => c.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase));

        if (bearer is not null)
        {
            if (sentBearer) _tokens.TryRemove(scope, out _);
            var token = await FetchTokenAsync(bearer, scope, ct);
            _scheme = "Bearer";
            authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        else if (basic is not null && authorization?.Scheme != "Basic")
        {
            _scheme = "Basic";
            authorization = BasicHeader();
        }
        else
        {
            throw Refused(HttpStatusCode.Unauthorized);
        }

        response = await SendOnceAsync(method, path, manifestAccept, authorization, ct, content);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            response.Dispose();
            throw Refused(HttpStatusCode.Unauthorized);
        }
        return response;
    }

    private async Task<HttpResponseMessage> SendOnceAsync(HttpMethod method, string path, bool manifestAccept,
        AuthenticationHeaderValue? authorization, CancellationToken ct, Func<HttpContent>? content = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(BaseUri, path));
        if (content is not null) request.Content = content();
        if (manifestAccept)
            foreach (var mediaType in ManifestMediaTypes) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
        else
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Authorization = authorization;
        try
        {
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            _logger.LogDebug("Registry {Method} {Registry}/{Path} answered {Status}", method, Host, path, (int)response.StatusCode);
            return response;
        }
        catch (HttpRequestException e)
        {
            throw new RegistryException($"registry {Host} is unreachable: {e.Message}", inner: e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new RegistryException($"registry {Host} did not answer {method} {path} in time", inner: e);
        }
    }

    /// <summary>The Bearer token flow: GET realm?service=…&amp;scope=… with the user's credentials.</summary>
    private async Task<string> FetchTokenAsync(AuthenticationHeaderValue challenge, string scope, CancellationToken ct)
    {
        var parameters = ParseChallenge(challenge.Parameter ?? "");
        if (!parameters.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri)
            || realmUri.Scheme is not ("https" or "http"))
            throw new RegistryException($"registry {Host} asked for a Bearer token without a valid realm", HttpStatusCode.Unauthorized);
        // The credentials travel to the realm: over TLS, unless it is this machine.
        if (realmUri.Scheme == "http" && !realmUri.IsLoopback)
            throw new RegistryException($"registry {Host} asked for credentials at '{realmUri.GetLeftPart(UriPartial.Path)}' over plain http; refusing to send them", HttpStatusCode.Unauthorized);

        var query = new List<string>();
        if (parameters.TryGetValue("service", out var service)) query.Add("service=" + Uri.EscapeDataString(service));
        var requestedScope = parameters.TryGetValue("scope", out var s) && s.Length > 0 ? s : scope;
        query.Add("scope=" + Uri.EscapeDataString(requestedScope));
        var tokenUri = new UriBuilder(realmUri)
        {
            Query = string.Join('&', new[] { realmUri.Query.TrimStart('?') }.Where(q => q.Length > 0).Concat(query)),
        }.Uri;

        using var request = new HttpRequestMessage(HttpMethod.Get, tokenUri);
        if (!string.IsNullOrEmpty(_options.Username)) request.Headers.Authorization = BasicHeader();
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new RegistryException($"the token service of registry {Host} ({realmUri.Authority}) is unreachable: {e.Message}", inner: e);
        }
        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) throw Refused(response.StatusCode);
            if (!response.IsSuccessStatusCode)
                throw new RegistryException($"the token service of registry {Host} answered {(int)response.StatusCode} {response.ReasonPhrase}", response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(ct));
            var root = json.RootElement;
            var token = root.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
                : root.TryGetProperty("access_token", out var at) && at.ValueKind == JsonValueKind.String ? at.GetString() : null;
            if (string.IsNullOrEmpty(token)) throw new RegistryException($"the token service of registry {Host} returned no token");
            var lifetime = root.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var seconds) && seconds > 0 ? seconds : 60;
            // Renew a little early so a token never expires in flight.
            _tokens[scope] = (token, DateTimeOffset.UtcNow.AddSeconds(Math.Max(1, lifetime - 10)));
            return token;
        }
    }

    private static Dictionary<string, string> ParseChallenge(string parameter)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (Match m in ChallengeParameter().Matches(parameter))
            result[m.Groups[1].Value] = m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value;
        return result;
    }

    private AuthenticationHeaderValue BasicHeader() =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_options.Username}:{_options.Password}")));

    private RegistryException Refused(HttpStatusCode status) =>
        new($"registry {Host} refused the credentials of user '{_options.Username}' ({(int)status} {status})", status);

    private async Task EnsureSuccessAsync(HttpResponseMessage response, HttpMethod method, string path, string what, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        if (response.StatusCode == HttpStatusCode.Unauthorized) throw Refused(response.StatusCode);
        if (response.StatusCode == HttpStatusCode.Forbidden)
            throw new RegistryException($"registry {Host} denied user '{_options.Username}' permission {what} (403 Forbidden)", response.StatusCode);
        var body = "";
        try
        {
            body = await response.Content.ReadAsStringAsync(ct);
            if (body.Length > 500) body = body[..500] + "…";
        }
        catch (HttpRequestException) { }
        throw new RegistryException($"registry {Host} answered {(int)response.StatusCode} {response.ReasonPhrase} to {method} /{path.Split('?')[0]}: {body.Trim()}", response.StatusCode);
    }

    [GeneratedRegex("^sha256:[0-9a-f]{64}$")]
    private static partial Regex DigestPattern();

    [GeneratedRegex(ContractPatterns.DockerTag)]
    private static partial Regex TagReference();

    [GeneratedRegex("<([^>]+)>\\s*;\\s*rel=\"?next\"?", RegexOptions.IgnoreCase)]
    private static partial Regex NextLink();

    [GeneratedRegex("([A-Za-z_][A-Za-z0-9_]*)\\s*=\\s*(?:\"([^\"]*)\"|([^,\\s]*))")]
    private static partial Regex ChallengeParameter();
}
