using System.Net;
using System.Text;
using Slipway.Tester.Smoke;

namespace Slipway.Tests.Integration.Tester;

/// <summary>
/// Which request targets the smoke step sends (no container): relative paths on the service only, checked as
/// written and after percent-decoding; and the HTTP client underneath, which cannot connect anywhere else.
/// </summary>
public sealed class RequestPathTests
{
    private static readonly Uri Service = new("http://127.0.0.1:4321");

    [Theory]
    [InlineData("/")]
    [InlineData("/_info")]
    [InlineData("/?spec")]
    [InlineData("/en.example.org/v1/page/Main%20Page/42?redirect=false&lang=en&lang=de")]
    [InlineData("/files/a%2Fb")] // one encoded slash inside a segment: a title may hold one
    [InlineData("/v1/page:edit")]
    [InlineData("/search?q=a@b.org&next=//x")] // the query cannot change where the request goes
    [InlineData("/tag/C%23")]
    public void Relative_paths_are_accepted(string path)
    {
        Assert.Null(RequestPath.Problem(path));
        var uri = RequestPath.On(Service, path);
        Assert.True(RequestPath.IsOn(Service, uri));
        Assert.Equal("127.0.0.1:4321", uri.Authority);
    }

    [Theory]
    [InlineData("", "the path is empty")]
    [InlineData("@127.0.0.2:8080/x", "the path must start with '/' (a relative path on the service, no scheme or host)")]
    [InlineData("127.0.0.2/x", "the path must start with '/' (a relative path on the service, no scheme or host)")]
    [InlineData("http://127.0.0.2/", "the path must start with '/' (a relative path on the service, no scheme or host)")]
    [InlineData("%2f%2f127.0.0.2/", "the path must start with '/' (a relative path on the service, no scheme or host)")]
    [InlineData("//127.0.0.2:8080/", "the path contains '//', which could name another host")]
    [InlineData("/\\127.0.0.2/", "the path contains '\\'")]
    [InlineData("/@127.0.0.2/", "the path contains '@', which could name another host")]
    [InlineData("/%2f%2f127.0.0.2/", "the path contains '//' (after percent-decoding), which could name another host")]
    [InlineData("/%2F/127.0.0.2/", "the path contains '//' (after percent-decoding), which could name another host")]
    [InlineData("/%252f%252f127.0.0.2/", "the path contains '//' (after percent-decoding), which could name another host")]
    [InlineData("/%40127.0.0.2/", "the path contains '@' (after percent-decoding), which could name another host")]
    [InlineData("/%5c127.0.0.2/", "the path contains '\\' (after percent-decoding)")]
    [InlineData("/a/../b", "the path contains a '..' segment")]
    [InlineData("/a/%2e%2e/b", "the path contains a '..' segment (after percent-decoding)")]
    [InlineData("/x%0d%0aHost:%20evil", "the path contains CR (after percent-decoding)")]
    [InlineData("/x%00", "the path contains U+0000 (after percent-decoding)")]
    [InlineData("/x\r\nHost: evil", "the path contains CR; only printable ASCII is allowed (percent-encode the rest)")]
    [InlineData("/a b", "the path contains a space; only printable ASCII is allowed (percent-encode the rest)")]
    [InlineData("/\uff20evil", "the path contains U+FF20; only printable ASCII is allowed (percent-encode the rest)")]
    [InlineData("/x#frag", "the path contains '#'")]
    [InlineData("/x?a=1#frag", "the query contains '#' or '\\'")]
    [InlineData("/%25252525252f", "the path is percent-encoded too many times over")]
    public void Anything_else_is_refused_with_the_rule_it_breaks(string path, string problem)
    {
        Assert.Equal(problem, RequestPath.Problem(path));
        var refused = Assert.Throws<RefusedRequestException>(() => RequestPath.On(Service, path));
        Assert.EndsWith(": " + problem, refused.Message);
    }

    [Fact]
    public void A_path_longer_than_the_limit_is_refused() =>
        Assert.Equal("the path is longer than 2048 characters", RequestPath.Problem("/" + new string('a', 2048)));

    [Theory]
    [InlineData("http://127.0.0.2:4321/")]
    [InlineData("http://127.0.0.1:4322/")]
    [InlineData("https://127.0.0.1:4321/")]
    [InlineData("http://user@127.0.0.1:4321/")]
    public void Only_the_services_own_scheme_host_and_port_are_on_it(string uri) => Assert.False(RequestPath.IsOn(Service, new Uri(uri)));

    [Theory]
    [InlineData("Host", "127.0.0.2", "the smoke step sets this header itself")]
    [InlineData("Proxy-Authorization", "x", "the smoke step sets this header itself")]
    [InlineData("Transfer-Encoding", "chunked", "the smoke step sets this header itself")]
    [InlineData("X-A\r\nHost", "x", "the name is not an HTTP token")]
    [InlineData("X-A", "a\r\nHost: 127.0.0.2", "the value contains a control character or a character outside Latin-1")]
    [InlineData("Accept", "application/json", null)]
    public void Request_headers_that_address_or_frame_the_request_are_refused(string name, string value, string? problem) =>
        Assert.Equal(problem, RequestHeaders.Problem(name, value));

    [Fact]
    public async Task The_smoke_client_never_connects_to_another_host_even_when_asked_directly()
    {
        await using var foreign = new ForeignListener();
        await using var service = new ForeignListener("127.0.0.1");
        var serviceUri = new Uri($"http://127.0.0.1:{service.Endpoint.Port}");
        using var http = ServiceOnlyHttp.Create(serviceUri, service.Endpoint);

        // A bug that built an absolute URI to another host: the connection is refused, nothing is sent.
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"http://{foreign.Target}/stolen"));
        var refused = Assert.IsType<RefusedRequestException>(e.InnerException);
        Assert.Equal($"refused a connection to 127.0.0.2:{foreign.Endpoint.Port}: the smoke step only connects to the service at 127.0.0.1:{service.Endpoint.Port}", refused.Message);
        // The same port on another loopback address, and a host name, are other hosts too.
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"http://127.0.0.2:{service.Endpoint.Port}/"));
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"http://localhost:{service.Endpoint.Port}/"));
        Assert.Empty(foreign.Seen);
        Assert.Empty(service.Seen);

        // The service itself is reached (the listener records the request and hangs up without an answer, which
        // the client may retry).
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAnyAsync<Exception>(() => http.GetAsync(new Uri(serviceUri, "/ok"), cts.Token));
        Assert.NotEmpty(service.Seen);
        Assert.All(service.Seen, request => Assert.StartsWith($"GET /ok HTTP/1.1\r\nHost: 127.0.0.1:{service.Endpoint.Port}\r\n", request));
        await foreign.ProveAliveAsync();
    }

    [Fact]
    public async Task A_body_is_read_up_to_the_limit_and_a_bigger_one_fails_with_the_limit_named()
    {
        using var small = new ByteArrayContent(new byte[1024]);
        Assert.Equal(1024, (await ServiceChecker.ReadBodyAsync(small, 1024, CancellationToken.None)).Length);

        using var streamed = new StreamContent(new MemoryStream(Encoding.ASCII.GetBytes(new string('x', 3000))));
        streamed.Headers.ContentLength = null; // sent without a length: the reader learns the size by reading
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => ServiceChecker.ReadBodyAsync(streamed, 2048, CancellationToken.None));
        Assert.Equal("body: larger than the limit of 2 KiB", e.Message);

        using var announced = new ByteArrayContent(new byte[10]);
        announced.Headers.ContentLength = 1L << 40;
        e = await Assert.ThrowsAsync<InvalidDataException>(() => ServiceChecker.ReadBodyAsync(announced, 4 * 1024 * 1024, CancellationToken.None, "spec"));
        Assert.Equal("spec: 1099511627776 bytes announced, larger than the limit of 4 MiB", e.Message);
    }
}
