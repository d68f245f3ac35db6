using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Contracts;
using Slipway.Tester;
using Slipway.Tester.Smoke;

namespace Slipway.Tests.Integration.Tester;

/// <summary>
/// What a service under smoke test serves is hostile: spec paths aimed at another host, redirects away, huge
/// answers, a flood of log output. A listener on 127.0.0.2 (another host, as far as the smoke step knows) must see
/// no request, and each attempt fails the step with a clear, bounded reason.
/// </summary>
[Collection(TesterImagesCollection.Name)]
public sealed class HostileServiceTests(TesterImages images)
{
    private SmokeTester Tester(TesterOptions? options = null) => new(images.Docker,
        options ?? new TesterOptions { SmokeForwarderImage = images.BaseImage, SmokeReadinessPollMs = 200, SmokeCleanupDelayMs = 0 }, NullLogger<SmokeTester>.Instance);

    private SmokeRequest Request(string mode, ForeignListener? listener = null) => new()
    {
        Image = images.ServiceImage, Labels = images.Labels, StartTimeout = TimeSpan.FromSeconds(30),
        Env = new Dictionary<string, string> { ["MODE"] = mode, ["TARGET"] = listener?.Target ?? "127.0.0.2:9" },
    };

    [Fact]
    public async Task Spec_paths_aimed_at_another_host_are_refused_and_that_host_sees_no_request()
    {
        await using var listener = new ForeignListener();
        var t = listener.Target;

        var result = await Tester().RunAsync(Request("hostile", listener), CancellationToken.None);
        await result.CleanedUp; // the removals run after the result is returned

        Assert.False(result.Succeeded);
        var details = result.Checks.ToDictionary(c => c.Name, c => c.Detail);
        Assert.Null(details["GET /_info"]); // the service itself is checked as usual
        Assert.Null(details["liveness GET /_info"]);
        Assert.Equal($"refused '@{t}/at': the path must start with '/' (a relative path on the service, no scheme or host)", details[$"GET @{t}/at"]);
        Assert.Equal($"refused '//{t}/slashes': the path contains '//', which could name another host", details[$"GET //{t}/slashes"]);
        Assert.Equal($"refused 'http://{t}/absolute': the path must start with '/' (a relative path on the service, no scheme or host)", details[$"GET http://{t}/absolute"]);
        Assert.Equal($"refused '\\\\{t}/backslashes': the path must start with '/' (a relative path on the service, no scheme or host)", details[$"GET \\\\{t}/backslashes"]);
        Assert.Equal($"refused '/%2f%2f{t}/encoded-slashes': the path contains '//' (after percent-decoding), which could name another host", details[$"GET /%2f%2f{t}/encoded-slashes"]);
        Assert.Equal($"refused '/%252f%252f{t}/double-encoded': the path contains '//' (after percent-decoding), which could name another host", details[$"GET /%252f%252f{t}/double-encoded"]);
        Assert.Equal($"refused '%40{t}/encoded-at': the path must start with '/' (a relative path on the service, no scheme or host)", details[$"GET %40{t}/encoded-at"]);
        Assert.Equal("refused '/x??Host: " + t + "': the path contains CR; only printable ASCII is allowed (percent-encode the rest)", details[$"GET /x\r\nHost: {t}"]);
        Assert.Equal($"refused '/hello/%40{Uri.EscapeDataString(t)}': the path contains '@' (after percent-decoding), which could name another host", details["GET /hello/{name}: param with @"]);
        Assert.StartsWith($"refused '%40{Uri.EscapeDataString(t)}/param-prefix': the path must start with '/'", details["GET {+where}/param-prefix"]);
        Assert.Equal("refused header 'Host': the smoke step sets this header itself", details["GET /headers: host header"]);
        Assert.Equal(11, result.ChecksFailed);
        Assert.Equal($"GET @{t}/at failed: refused '@{t}/at': the path must start with '/' (a relative path on the service, no scheme or host)", result.Reason);

        Assert.Empty(listener.Seen);
        await listener.ProveAliveAsync();
        Assert.Equal(["alive"], listener.Seen);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_config_path_aimed_at_another_host_is_refused_before_any_container_starts()
    {
        await using var listener = new ForeignListener();

        var result = await Tester().RunAsync(Request("good") with { ReadinessPath = $"//{listener.Target}/ready" }, CancellationToken.None);
        await result.CleanedUp; // the removals run after the result is returned

        Assert.False(result.Succeeded);
        Assert.Equal($"readiness path '//{listener.Target}/ready' refused: the path contains '//', which could name another host", result.Reason);
        Assert.Empty(listener.Seen);
        await listener.ProveAliveAsync();
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task The_service_under_smoke_test_cannot_reach_the_build_host_through_its_networks_gateway()
    {
        // A build-host listener on every address (as sshd, a metrics agent or a dockerd TCP socket may be): on an
        // internal network whose bridge has an address on the host, the service reached it through the gateway.
        await using var listener = new ForeignListener("0.0.0.0");

        var result = await Tester().RunAsync(Request("probehost", listener), CancellationToken.None);
        await result.CleanedUp; // the removals run after the result is returned

        Assert.True(result.Succeeded, result.Reason); // the service itself is still reached and checked
        Assert.Contains($"probe: the host at ", result.OutputTail);
        Assert.Contains($":{listener.Endpoint.Port} is unreachable", result.OutputTail);
        Assert.DoesNotContain("probe: reached the host", result.OutputTail);
        Assert.Empty(listener.Seen);
        await listener.ProveAliveAsync();
        Assert.Equal(["alive"], listener.Seen);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_redirect_to_another_host_is_not_followed_it_is_the_answer()
    {
        await using var listener = new ForeignListener();

        var result = await Tester().RunAsync(Request("redirect", listener), CancellationToken.None);
        await result.CleanedUp; // the removals run after the result is returned

        Assert.False(result.Succeeded);
        var details = result.Checks.ToDictionary(c => c.Name, c => c.Detail);
        Assert.Equal("status: expected 200, got 302", details["GET /go"]);
        Assert.Null(details["GET /go-expected: a redirect is an answer"]); // the contract matches a 3xx as the answer
        Assert.Equal("GET /go failed: status: expected 200, got 302", result.Reason);
        Assert.Empty(listener.Seen);
        await listener.ProveAliveAsync();
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_huge_body_fails_its_check_at_the_limit_and_the_service_is_still_checked()
    {
        var options = new TesterOptions { SmokeForwarderImage = images.BaseImage, SmokeReadinessPollMs = 200, SmokeCleanupDelayMs = 0, SmokeMaxBodyBytes = 1024 * 1024 };

        var result = await Tester(options).RunAsync(Request("hugebody"), CancellationToken.None);
        await result.CleanedUp; // the removals run after the result is returned

        Assert.False(result.Succeeded);
        var details = result.Checks.ToDictionary(c => c.Name, c => c.Detail);
        Assert.Equal("body: larger than the limit of 1 MiB", details["GET /big"]);
        Assert.Equal("body: 8388608 bytes announced, larger than the limit of 1 MiB", details["GET /big-announced"]);
        Assert.Null(details["liveness GET /_info"]);
        Assert.Equal("GET /big failed: body: larger than the limit of 1 MiB", result.Reason);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_huge_spec_fails_the_smoke_test_with_the_limit_named()
    {
        var options = new TesterOptions { SmokeForwarderImage = images.BaseImage, SmokeReadinessPollMs = 200, SmokeCleanupDelayMs = 0, SmokeMaxSpecBytes = 1024 * 1024 };

        var result = await Tester(options).RunAsync(Request("hugespec"), CancellationToken.None);
        await result.CleanedUp; // the removals run after the result is returned

        Assert.False(result.Succeeded);
        Assert.Equal("spec GET /?spec failed: spec: larger than the limit of 1 MiB", result.Reason);
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }

    [Fact]
    public async Task A_service_that_floods_its_log_gets_a_bounded_tail()
    {
        var result = await Tester().RunAsync(Request("flood"), CancellationToken.None);
        await result.CleanedUp; // the removals run after the result is returned

        Assert.True(result.Succeeded, result.Reason);
        Assert.NotNull(result.OutputTail);
        Assert.InRange(result.OutputTail.Length, 1, Output.TailMaxChars);
        Assert.True(result.OutputTail.Split('\n').Length <= Output.DefaultTailLines);
        // The end of the log, not its start: the first line is 400,000 lines back. (Not "the checks' own lines are in
        // it": dockerd's log copier can still be working through the 19 MB flood when the tail is read, which under
        // load left the last request's line out, so that was a race with the engine, not a property of the tail.)
        Assert.DoesNotContain("service starting", result.OutputTail);
        Assert.All(result.OutputTail.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.Matches(
            @"^(a line of log output that repeats and repeats|flooded|listening on 8080|(GET|HEAD) \S+ -> \d{3})$", line));
        Assert.Equal((0, 0), await images.LeftoversAsync());
    }
}
