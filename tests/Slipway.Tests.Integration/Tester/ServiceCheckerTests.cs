using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Slipway.Tester.Smoke;

namespace Slipway.Tests.Integration.Tester;

/// <summary>The service-checker contract's parsing and matching rules, with no container and no network.</summary>
public sealed class ServiceCheckerTests
{
    private const string Spec = """
        {
          "swagger": "2.0",
          "x-default-params": { "domain": "en.example.org" },
          "paths": {
            "/{domain}/v1/page/{title}{/revision}": {
              "get": { "x-amples": [
                { "title": "page by title", "request": { "params": { "title": "Main Page", "revision": 42 }, "query": { "redirect": false, "lang": ["en", "de"] }, "headers": { "Accept": "application/json" } },
                  "response": { "status": 200, "headers": { "Content-Type": "application/json" }, "body": { "items": [ { "title": "/^Main/" } ], "count": 1 } } } ] },
              "post": { "x-monitor": false }
            },
            "/_info": { "get": {} },
            "/echo": { "post": { "x-amples": [ { "title": "echoes", "request": { "headers": { "Content-Type": "application/json" }, "body": { "a": 1 } }, "response": { "status": 201, "body": "/^ok/" } } ] } },
            "/skipped": { "get": { "x-monitor": false } },
            "/put-only": { "put": { "x-amples": [ { "response": { "status": 200 } } ] } }
          }
        }
        """;

    [Fact]
    public void Parse_follows_the_contract_defaults_skips_and_methods()
    {
        var cases = ServiceChecker.Parse(Spec);

        Assert.Equal(["GET /{domain}/v1/page/{title}{/revision}: page by title", "GET /_info", "POST /echo: echoes"], cases.Select(c => c.Name));
        Assert.Equal(200, cases[1].Expected.Status); // a GET without x-amples must answer 200
        Assert.Equal("en.example.org", UrlTemplate.Scalar(cases[0].Params["domain"]));
        Assert.Equal(201, cases[2].Expected.Status);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"openapi\":\"3.0.0\"}")]
    public void Parse_rejects_what_is_not_a_spec(string spec) => Assert.Throws<FormatException>(() => ServiceChecker.Parse(spec));

    [Fact]
    public void Url_templates_fill_simple_optional_and_multiple_parameters()
    {
        var p = new Dictionary<string, JsonNode?> { ["domain"] = "en.example.org", ["title"] = "Main Page", ["revision"] = 42, ["path"] = new JsonArray("a b", "c") };

        Assert.Equal("/en.example.org/v1/page/Main%20Page/42", UrlTemplate.Realize("/{domain}/v1/page/{title}{/revision}", p));
        Assert.Equal("/v1/page/", UrlTemplate.Realize("/v1/page/{missing}{/missing}", p));
        Assert.Equal("/files/a%20b/c", UrlTemplate.Realize("/files/{+path}", p));
        Assert.Equal("?redirect=false&lang=en&lang=de", UrlTemplate.Query(JsonNode.Parse("""{"redirect":false,"lang":["en","de"]}""")!.AsObject()));
    }

    [Theory]
    [InlineData("/^canis .*/", "canis lupus", true)]
    [InlineData("/^canis .*/", "felis catus", false)]
    [InlineData("abcd", "abcd", true)]
    [InlineData("abcd", "abcde", false)]
    [InlineData("/[unclosed/", "[unclosed", false)]
    public void Body_leaves_match_exactly_or_by_regex(string expected, string actual, bool matches) =>
        Assert.Equal(matches, ResponseMatcher.MatchesLeaf(expected, actual));

    [Theory]
    [InlineData("application/json", "application/json; charset=utf-8", true)]
    [InlineData("application/json", "text/html", false)]
    [InlineData("/json/", "application/problem+json", true)]
    public void Header_values_match_by_prefix_or_regex(string expected, string actual, bool matches) =>
        Assert.Equal(matches, ResponseMatcher.MatchesHeader(expected, actual));

    [Theory]
    [InlineData("""{"a":"x"}""", """{"a":"x","extra":1}""", null)]
    [InlineData("""{"a":"x"}""", """{"a":"y"}""", "body.a: expected \"x\", got \"y\"")]
    [InlineData("""{"a":{"b":"x"}}""", """{"a":{}}""", "body.a.b: expected \"x\", got nothing (missing)")]
    [InlineData("""{"list":[{"n":"/^a/"}]}""", """{"list":[{"n":"abc"},{"n":"z"}]}""", null)]
    [InlineData("""{"list":["x","y"]}""", """{"list":["x"]}""", "body.list[1]: expected \"y\", got nothing (the array has 1 items)")]
    [InlineData("""{"n":1}""", """{"n":1.0}""", null)]
    [InlineData("""{"n":1}""", """{"n":2}""", "body.n: expected 1, got 2")]
    [InlineData("""{"ok":true}""", """{"ok":false}""", "body.ok: expected true, got false")]
    [InlineData("""{"n":"1"}""", """{"n":1}""", "body.n: expected \"1\", got 1")]
    [InlineData("""{"n":"/^\\d+$/"}""", """{"n":123}""", null)]
    [InlineData("""{"a":"x"}""", """[1]""", "body: expected an object, got an array [1]")]
    public void Json_bodies_match_as_a_subset_and_name_the_first_difference(string expected, string actual, string? difference) =>
        Assert.Equal(difference, ResponseMatcher.JsonDifference(JsonNode.Parse(expected), JsonNode.Parse(actual), "body"));

    [Fact]
    public void Status_headers_and_text_bodies_name_their_difference()
    {
        var expected = new ExpectedResponse { Status = 200, Headers = new Dictionary<string, string> { ["X-A"] = "yes" }, Body = "/^hello/" };

        Assert.Equal("status: expected 200, got 500", ResponseMatcher.Difference(expected, 500, _ => "yes", "hello"));
        Assert.Equal("header X-A: expected \"yes\", got nothing (missing)", ResponseMatcher.Difference(expected, 200, _ => null, "hello"));
        Assert.Equal("body: expected /^hello/, got \"bye\"", ResponseMatcher.Difference(expected, 200, _ => "yes", "bye"));
        Assert.Null(ResponseMatcher.Difference(expected, 200, _ => "yes", "hello world"));
        Assert.Equal("body: expected JSON, got \"<html>\"", ResponseMatcher.Difference(new ExpectedResponse { Body = new JsonObject { ["a"] = 1 } }, 200, _ => null, "<html>"));
    }

    [Fact]
    public async Task Running_a_spec_sends_each_request_as_written_and_reports_every_check()
    {
        var seen = new List<string>();
        using var http = new HttpClient(new Handler(async request =>
        {
            var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync();
            seen.Add($"{request.Method} {request.RequestUri!.PathAndQuery} {request.Headers.Accept} {request.Content?.Headers.ContentType?.MediaType} {body}".TrimEnd());
            return request.RequestUri.AbsolutePath switch
            {
                "/en.example.org/v1/page/Main%20Page/42" => Json(HttpStatusCode.OK, """{"items":[{"title":"Main Page"}],"count":2}"""),
                "/_info" => Json(HttpStatusCode.OK, "{}"),
                "/echo" => new HttpResponseMessage(HttpStatusCode.Created) { Content = new StringContent("ok: " + body) },
                _ => new HttpResponseMessage(HttpStatusCode.NotFound),
            };
        }));
        var checker = new ServiceChecker(http, TimeSpan.FromSeconds(5));

        var checks = await checker.RunAsync(new Uri("http://127.0.0.1:1"), Spec, maxChecks: 10, CancellationToken.None);

        Assert.Equal(
            [
                "GET /en.example.org/v1/page/Main%20Page/42?redirect=false&lang=en&lang=de application/json",
                "GET /_info",
                "POST /echo  application/json {\"a\":1}",
            ],
            seen);
        Assert.Equal([false, true, true], checks.Select(c => c.Passed));
        Assert.Equal("body.count: expected 1, got 2", checks[0].Detail);
        Assert.All(checks, c => Assert.NotNull(c.DurationMs));
    }

    [Fact]
    public async Task A_spec_with_too_many_checks_or_none_at_all_is_one_failed_check()
    {
        using var http = new HttpClient(new Handler(_ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK))));
        var checker = new ServiceChecker(http, TimeSpan.FromSeconds(5));

        var tooMany = Assert.Single(await checker.RunAsync(new Uri("http://127.0.0.1:1"), Spec, maxChecks: 2, CancellationToken.None));
        Assert.Equal("spec defines 3 checks; at most 2 are allowed", tooMany.Detail);
        var notSpec = Assert.Single(await checker.RunAsync(new Uri("http://127.0.0.1:1"), "<html>", maxChecks: 10, CancellationToken.None));
        Assert.False(notSpec.Passed);
        Assert.StartsWith("spec is not JSON", notSpec.Detail);
    }

    [Fact]
    public async Task A_request_that_gets_no_answer_fails_its_check()
    {
        using var http = new HttpClient(new Handler(async _ => { await Task.Delay(TimeSpan.FromSeconds(10)); return new HttpResponseMessage(); }));
        var checker = new ServiceChecker(http, TimeSpan.FromMilliseconds(200));

        var check = await checker.CheckAsync(new Uri("http://127.0.0.1:1"), new ServiceCheckCase { Method = "GET", PathTemplate = "/slow", Expected = new() }, CancellationToken.None);

        Assert.False(check.Passed);
        Assert.Equal("no answer within 0.2s", check.Detail);
    }

    private static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    private sealed class Handler(Func<HttpRequestMessage, Task<HttpResponseMessage>> respond) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var response = respond(request);
            return await response.WaitAsync(ct);
        }
    }
}
