using System.Net;
using System.Text;
using Slipway.Containers;
using Slipway.Publisher.Registry;

namespace Slipway.Tests.Integration.Publisher;

/// <summary>The registry client's protocol handling against a scripted registry (the real one is in the integration tests).</summary>
public class RegistryClientTests
{
    private const string Digest = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private static readonly RegistryOptions Options = new() { Url = "registry.example.org", Username = "pusher", Password = "s3cret-pw" };

    private sealed class Scripted(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        public List<string> Requests { get; } = [];
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            Requests.Add($"{request.Method} {request.RequestUri} {request.Headers.Authorization?.Scheme} {request.Headers.Authorization?.Parameter}");
            return Task.FromResult(answer(request));
        }
    }

    private static HttpResponseMessage Status(HttpStatusCode code, string body = "") => new(code) { Content = new StringContent(body) };

    [Theory]
    [InlineData("127.0.0.1:5000", "http://127.0.0.1:5000/", "127.0.0.1:5000")]
    [InlineData("localhost:5000", "http://localhost:5000/", "localhost:5000")]
    [InlineData("registry.example.org", "https://registry.example.org/", "registry.example.org")]
    [InlineData("registry.example.org:8443", "https://registry.example.org:8443/", "registry.example.org:8443")]
    [InlineData("http://registry.internal:5000/", "http://registry.internal:5000/", "registry.internal:5000")]
    [InlineData("https://127.0.0.1:5000", "https://127.0.0.1:5000/", "127.0.0.1:5000")]
    public void Base_url_and_host(string url, string baseUri, string host)
    {
        var (b, h) = RegistryClient.ParseUrl(url);
        Assert.Equal(baseUri, b.ToString());
        Assert.Equal(host, h);
    }

    [Fact]
    public async Task Bearer_token_flow_asks_the_realm_with_the_credentials_and_caches_the_token()
    {
        var tokenRequests = 0;
        var handler = new Scripted(request =>
        {
            var uri = request.RequestUri!;
            if (uri.Host == "auth.example.org")
            {
                tokenRequests++;
                Assert.Equal("Basic", request.Headers.Authorization?.Scheme);
                Assert.Equal("pusher:s3cret-pw", Encoding.UTF8.GetString(Convert.FromBase64String(request.Headers.Authorization!.Parameter!)));
                Assert.Contains("service=registry.example.org", uri.Query);
                Assert.Contains("scope=repository%3Ademo%2Fhello%3Apull", uri.Query);
                return Status(HttpStatusCode.OK, """{"token":"tok-1","expires_in":300}""");
            }
            if (request.Headers.Authorization is { Scheme: "Bearer", Parameter: "tok-1" })
            {
                var ok = Status(HttpStatusCode.OK);
                ok.Headers.Add("Docker-Content-Digest", Digest);
                return ok;
            }
            var challenge = Status(HttpStatusCode.Unauthorized);
            challenge.Headers.Add("WWW-Authenticate", "Bearer realm=\"https://auth.example.org/token\",service=\"registry.example.org\",scope=\"repository:demo/hello:pull\"");
            return challenge;
        });
        var client = new RegistryClient(new HttpClient(handler), Options, new ListLogger<RegistryClient>());

        Assert.Equal(Digest, await client.GetManifestDigestAsync("demo/hello", "v1"));
        Assert.Equal(Digest, await client.GetManifestDigestAsync("demo/hello", "v2"));
        Assert.Equal(1, tokenRequests);
        Assert.StartsWith("HEAD https://registry.example.org/v2/demo/hello/manifests/v1", handler.Requests[0]);
        Assert.DoesNotContain("Basic", handler.Requests[0]); // credentials only in answer to a challenge
    }

    [Fact]
    public async Task Refused_credentials_name_the_user_never_the_password()
    {
        var logger = new ListLogger<RegistryClient>();
        var handler = new Scripted(request =>
        {
            if (request.RequestUri!.Host == "auth.example.org") return Status(HttpStatusCode.Unauthorized, "bad pw");
            var challenge = Status(HttpStatusCode.Unauthorized);
            challenge.Headers.Add("WWW-Authenticate", "Bearer realm=\"https://auth.example.org/token\",service=\"r\"");
            return challenge;
        });
        var client = new RegistryClient(new HttpClient(handler), Options, logger);

        var e = await Assert.ThrowsAsync<RegistryException>(() => client.ListTagsAsync("demo/hello"));
        Assert.Equal("registry registry.example.org refused the credentials of user 'pusher' (401 Unauthorized)", e.Message);
        Assert.True(e.IsAuthenticationFailure);
        Assert.DoesNotContain(logger.Lines, l => l.Contains("s3cret-pw"));
    }

    [Fact]
    public async Task Credentials_are_not_sent_to_a_plain_http_realm_elsewhere()
    {
        var handler = new Scripted(_ =>
        {
            var challenge = Status(HttpStatusCode.Unauthorized);
            challenge.Headers.Add("WWW-Authenticate", "Bearer realm=\"http://evil.example.net/token\"");
            return challenge;
        });
        var client = new RegistryClient(new HttpClient(handler), Options, new ListLogger<RegistryClient>());
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestDigestAsync("demo/hello", "v1"));
        Assert.Contains("over plain http; refusing to send them", e.Message);
        Assert.DoesNotContain(handler.Requests, r => r.Contains("evil"));
    }

    [Fact]
    public async Task Tag_list_follows_link_pagination_and_an_unknown_repository_has_no_tags()
    {
        var handler = new Scripted(request =>
        {
            var uri = request.RequestUri!.PathAndQuery;
            if (request.Headers.Authorization?.Scheme != "Basic")
            {
                var challenge = Status(HttpStatusCode.Unauthorized);
                challenge.Headers.Add("WWW-Authenticate", "Basic realm=\"r\"");
                return challenge;
            }
            if (uri.StartsWith("/v2/gone/")) return Status(HttpStatusCode.NotFound, """{"errors":[{"code":"NAME_UNKNOWN"}]}""");
            if (uri.Contains("last=b"))
                return Status(HttpStatusCode.OK, """{"name":"demo/hello","tags":["c"]}""");
            var page = Status(HttpStatusCode.OK, """{"name":"demo/hello","tags":["a","b"]}""");
            page.Headers.Add("Link", "</v2/demo/hello/tags/list?last=b&n=2>; rel=\"next\"");
            return page;
        });
        var client = new RegistryClient(new HttpClient(handler), Options, new ListLogger<RegistryClient>());
        Assert.Equal(["a", "b", "c"], await client.ListTagsAsync("demo/hello"));
        Assert.Empty(await client.ListTagsAsync("gone"));
    }

    [Fact]
    public async Task Deletes_refused_by_the_registry_say_how_to_enable_them()
    {
        var handler = new Scripted(_ => Status(HttpStatusCode.MethodNotAllowed));
        var client = new RegistryClient(new HttpClient(handler), Options, new ListLogger<RegistryClient>());
        var e = await Assert.ThrowsAsync<RegistryException>(() => client.DeleteManifestAsync("demo/hello", Digest));
        Assert.Contains("storage.delete.enabled", e.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => client.DeleteManifestAsync("demo/hello", "latest"));
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetManifestDigestAsync("demo/../x", "v1"));
    }
}
