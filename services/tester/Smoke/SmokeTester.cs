using System.Diagnostics;
using System.Globalization;
using System.Net;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using Slipway.Contracts;
using Slipway.Tester.Testing;

namespace Slipway.Tester.Smoke;

/// <summary>
/// Starts a production image detached, in isolation, and checks it from outside: readiness, the service-checker
/// contract (<see cref="ServiceChecker"/>), liveness. Its port is published on 127.0.0.1 only, on a port Docker
/// chooses.
/// <para>Network: Docker does not publish ports of a container on an <c>internal</c> network (tried on this
/// engine, docker.io 20.10: the port map stays empty). So with <see cref="TesterOptions.SmokeForwarderImage"/>
/// set, the service runs on a per-run internal network — no outbound traffic — and a trusted forwarder
/// (<see cref="PortForwarder"/>) on the default bridge and that network publishes the port; the network's bridge has no
/// address on the host, so the service cannot reach the build host's listeners through its gateway. Without it, the
/// step is refused unless the operator chose <see cref="TesterOptions.AllowUnisolatedSmoke"/>: then the service runs on
/// the default bridge with its port published on 127.0.0.1 (it can reach out).</para>
/// <para>What the service serves is hostile (its spec and answers are the uploader's): every request path is
/// checked (<see cref="RequestPath"/>), the HTTP client can connect only to the service's published port
/// (<see cref="ServiceOnlyHttp"/>), redirects are not followed, spec and bodies are read up to a limit, every
/// request has a timeout and all checks together a time budget.</para>
/// Every container and network created is removed, whatever happens: after the result is in hand and a pause
/// (<see cref="TesterOptions.SmokeCleanupDelayMs"/>, so the run's next step has the engine first; the removals are engine
/// work a person would not wait for either, ≈ 0.7 s on a loaded engine), tracked in
/// <see cref="SmokeResult.CleanedUp"/> and awaited when the tester stops; a tester killed before they end leaves them
/// to <see cref="SmokeLeftoverSweeper"/>.
/// </summary>
public sealed class SmokeTester(IDockerClient docker, TesterOptions options, ILogger<SmokeTester> logger) : IAsyncDisposable
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, byte> _cleanups = new();
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>The bridge driver's option that leaves the network's bridge without an IPv4 address on the host.</summary>
    public const string InhibitBridgeAddress = "com.docker.network.bridge.inhibit_ipv4";

    /// <summary>Why a smoke step is refused when the tester has no way to isolate the service (fails closed).</summary>
    public const string UnisolatedRefusal = "refused: the tester cannot isolate the service under smoke test from the network "
        + "(Tester:SmokeForwarderImage is not set); the operator sets it, or Tester:AllowUnisolatedSmoke=true to let the service reach out";

    /// <param name="warm">
    /// The step's network and forwarder made ahead by <see cref="SmokeWarmPairs"/> (for this request's port): the step then
    /// starts only the service, under the name the forwarder resolves. The step owns it from here (removes it at its end).
    /// </param>
    public async Task<SmokeResult> RunAsync(SmokeRequest request, CancellationToken ct, SmokeWarmPairs.Pair? warm = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.Image);
        var stopwatch = Stopwatch.StartNew();
        var cleanedUp = Task.CompletedTask;
        var livenessPath = request.LivenessPath ?? request.ReadinessPath;
        if (request.ContainerPort is < 1 or > 65535) return Fail($"container port {request.ContainerPort} is not a port");
        foreach (var (what, path) in new[] { ("readiness", request.ReadinessPath), ("spec", request.SpecPath), ("liveness", livenessPath) })
            if (RequestPath.Problem(path) is { } problem) return Fail($"{what} path {RequestPath.Show(path)} refused: {problem}");
        if (request.StartTimeout <= TimeSpan.Zero) return Fail("start timeout must be positive");

        var isolated = !string.IsNullOrWhiteSpace(options.SmokeForwarderImage);
        if (!isolated && !options.AllowUnisolatedSmoke) return Fail(UnisolatedRefusal);
        if (warm is not null && (!isolated || warm.ContainerPort != request.ContainerPort)) DropWarm(); // made for another port: of no use

        ImagePolicy.ImageCheck check;
        using (TesterTelemetry.Part("policy")) check = await ImagePolicy.CheckAsync(docker, request.Image, request.AllowRootUser, ct);
        if (check.Refusal is { } refusal) return Fail(refusal);
        var user = check.User;

        var id = warm?.Id ?? Guid.NewGuid().ToString("N")[..12];
        var labels = TestRunner.Labels(request.Labels, "smoke", options.Owner);
        string? networkId = warm?.NetworkId, serviceId = null, forwarderId = warm?.ForwarderId;
        // What the finally removes: a name from before its create call (a create cancelled or failed after the engine
        // made the object leaves no id in hand, but the name, unique to this step, finds it), the id once known.
        string? networkRef = networkId, serviceRef = null, forwarderRef = forwarderId;
        var checks = new List<SmokeCheck>();
        string? failure = null, tail = null;
        try
        {
            var port = $"{request.ContainerPort}/tcp";
            var networkName = isolated ? SmokeNetwork.NetworkName(id) : "bridge";
            if (isolated && warm is null)
            {
                using var networkPart = TesterTelemetry.Part("network");
                networkRef = networkName;
                // Creates run to their answer (a create cancelled mid-request may still happen after the removal by name
                // found nothing: a leak); the step's cancellation is checked right after instead.
                networkId = networkRef = await SmokeNetwork.CreateNetworkAsync(docker, networkName, labels, CancellationToken.None).ConfigureAwait(false);
                ct.ThrowIfCancellationRequested();
            }

            // Each part in a using: a part that throws still ends its span and records its time.
            using (TesterTelemetry.Part("service"))
            {
                var serviceHost = TestRunner.Isolation(options, networkName);
                if (!isolated) serviceHost.PortBindings = SmokeNetwork.Loopback(port);
                serviceRef = SmokeNetwork.ServiceName(id);
                serviceId = serviceRef = (await docker.Containers.CreateContainerAsync(new CreateContainerParameters
                {
                    Name = serviceRef,
                    Image = request.Image,
                    Env = request.Env?.Select(kv => $"{kv.Key}={kv.Value}").ToList(),
                    User = string.IsNullOrWhiteSpace(user) ? null : user,
                    Labels = labels,
                    ExposedPorts = new Dictionary<string, EmptyStruct> { [port] = default },
                    HostConfig = serviceHost,
                }, CancellationToken.None).ConfigureAwait(false)).ID;
                ct.ThrowIfCancellationRequested();
                await docker.Containers.StartContainerAsync(serviceId, new ContainerStartParameters(), ct).ConfigureAwait(false);
            }

            string hostPort;
            if (warm is not null)
            {
                hostPort = warm.HostPort; // the forwarder resolves the service by name from its first connection on
            }
            else if (isolated)
            {
                using var forwarderPart = TesterTelemetry.Part("forwarder");
                var serviceIp = (await docker.Containers.InspectContainerAsync(serviceId, ct).ConfigureAwait(false))
                    .NetworkSettings?.Networks is { } nets && nets.TryGetValue(networkName, out var net) ? net.IPAddress : null;
                if (string.IsNullOrEmpty(serviceIp)) await SmokeNetwork.ThrowIfExitedAsync(docker, serviceId, ct).ConfigureAwait(false);
                if (string.IsNullOrEmpty(serviceIp)) throw new InvalidOperationException($"service container has no address on {networkName}");
                // Known (so removed in the finally) as soon as it exists: a failed or cancelled connect or start must not
                // leave it, and the network it holds, behind.
                forwarderRef = SmokeNetwork.ForwarderName(id);
                forwarderId = forwarderRef = await SmokeNetwork.CreateForwarderAsync(docker, options, id, labels, serviceIp, request.ContainerPort, CancellationToken.None).ConfigureAwait(false);
                ct.ThrowIfCancellationRequested();
                hostPort = await SmokeNetwork.StartForwarderAsync(docker, networkId!, forwarderId, ct).ConfigureAwait(false);
            }
            else
            {
                hostPort = await SmokeNetwork.PublishedPortAsync(docker, serviceId, port, ct).ConfigureAwait(false);
            }
            var baseUrl = new Uri($"http://127.0.0.1:{hostPort}");
            using var http = ServiceOnlyHttp.Create(baseUrl, new IPEndPoint(IPAddress.Loopback, int.Parse(hostPort, CultureInfo.InvariantCulture)));
            logger.LogInformation("Smoke container {Container} of {Image} at {Url} (isolated network: {Isolated})", serviceId[..12], request.Image, baseUrl, isolated);

            SmokeCheck readiness;
            using (TesterTelemetry.Part("ready"))
                readiness = await WaitReadyAsync(http, serviceId, baseUrl, request.ReadinessPath, request.StartTimeout, ct).ConfigureAwait(false);
            checks.Add(readiness);
            if (!readiness.Passed)
            {
                failure = readiness.Detail!;
            }
            else
            {
                using var checksPart = TesterTelemetry.Part("checks");
                var checker = new ServiceChecker(http, TimeSpan.FromSeconds(options.SmokeRequestTimeoutSeconds), options.SmokeMaxBodyBytes);
                var (spec, specCheck) = await FetchSpecAsync(http, baseUrl, request.SpecPath, ct).ConfigureAwait(false);
                if (specCheck is not null) checks.Add(specCheck);
                else checks.AddRange(await checker.RunAsync(baseUrl, spec!, options.SmokeMaxChecks, ct, TimeSpan.FromSeconds(options.SmokeChecksTimeoutSeconds)).ConfigureAwait(false));
                checks.Add(Named(await checker.CheckAsync(baseUrl, new ServiceCheckCase
                {
                    Method = "GET", PathTemplate = livenessPath, Expected = new ExpectedResponse(),
                }, ct).ConfigureAwait(false), $"liveness GET {livenessPath}"));
            }
        }
        catch (ServiceExitedException e)
        {
            checks.Add(new SmokeCheck { Name = "readiness", Passed = false, Detail = e.Message, DurationMs = 0 });
            failure = e.Message;
        }
        catch (DockerApiException e)
        {
            logger.LogWarning(e, "Smoke test of {Image} could not run", request.Image);
            failure = "smoke container could not run: " + OneLine(e.ResponseBody ?? e.Message);
        }
        catch (InvalidOperationException e)
        {
            failure = "smoke container could not run: " + OneLine(e.Message);
        }
        catch (RefusedRequestException e)
        {
            failure = OneLine(e.Message);
        }
        finally
        {
            // The service's log tail is part of the result; removing what the step made is not (see the class comment).
            try
            {
                if (serviceId is not null)
                    using (TesterTelemetry.Part("log-tail")) tail = await LogTailAsync(serviceId, request.TailLines).ConfigureAwait(false);
            }
            finally
            {
                cleanedUp = Task.WhenAll(cleanedUp, Track(RemoveAllAsync(forwarderRef, serviceRef, networkRef)));
            }
        }

        var firstFailed = checks.FirstOrDefault(c => !c.Passed);
        var reason = failure is not null && firstFailed is { Name: "readiness" } ? failure
            : firstFailed is not null ? $"{firstFailed.Name} failed: {firstFailed.Detail}"
            : failure ?? $"all {checks.Count} checks passed";
        var succeeded = failure is null && firstFailed is null && checks.Count > 0;
        return new SmokeResult
        {
            Succeeded = succeeded, Checks = checks, Reason = OneLine(reason), OutputTail = tail, Duration = stopwatch.Elapsed, CleanedUp = cleanedUp,
        };

        SmokeResult Fail(string why)
        {
            DropWarm(); // refused before it was used
            return new() { Succeeded = false, Checks = [], Reason = why, Duration = stopwatch.Elapsed, CleanedUp = cleanedUp };
        }

        void DropWarm()
        {
            if (warm is null) return;
            cleanedUp = Track(RemoveAllAsync(warm.ForwarderId, null, warm.NetworkId));
            warm = null;
        }
    }

    /// <summary>Polls the readiness path until 2xx; fails early when the container exits.</summary>
    private async Task<SmokeCheck> WaitReadyAsync(HttpClient http, string serviceId, Uri baseUrl, string path, TimeSpan startTimeout, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        var lastProblem = "no answer yet";
        var attempts = 0;
        while (true)
        {
            attempts++;
            var state = (await docker.Containers.InspectContainerAsync(serviceId, ct).ConfigureAwait(false)).State;
            if (state is { Running: false })
                return Check(false, ServiceExitedException.Describe(state));
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(options.SmokeRequestTimeoutSeconds));
                using var response = await http.GetAsync(RequestPath.On(baseUrl, path), HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode) return Check(true, null);
                lastProblem = $"GET {path} answered {(int)response.StatusCode}";
            }
            catch (HttpRequestException e) when (e.InnerException is RefusedRequestException refused) { return Check(false, refused.Message); }
            catch (HttpRequestException e) { lastProblem = $"GET {path}: {e.Message}"; }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { lastProblem = $"GET {path}: no answer within {options.SmokeRequestTimeoutSeconds}s"; }

            if (stopwatch.Elapsed >= startTimeout)
                return Check(false, $"service did not become ready within {TestRunner.FormatLimit(startTimeout)} ({attempts} attempts; last: {lastProblem})");
            await Task.Delay(options.SmokeReadinessPollMs, ct).ConfigureAwait(false);
        }

        SmokeCheck Check(bool passed, string? detail) => new() { Name = "readiness", Passed = passed, Detail = detail, DurationMs = stopwatch.ElapsedMilliseconds };
    }

    /// <summary>The spec text, or a failed "spec" check saying why there is none.</summary>
    private async Task<(string? Spec, SmokeCheck? Failed)> FetchSpecAsync(HttpClient http, Uri baseUrl, string specPath, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        var name = $"spec GET {specPath}";
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(options.SmokeRequestTimeoutSeconds));
            using var response = await http.GetAsync(RequestPath.On(baseUrl, specPath), HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var body = await ServiceChecker.ReadBodyAsync(response.Content, options.SmokeMaxSpecBytes, timeout.Token, "spec").ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                return (null, new SmokeCheck { Name = name, Passed = false, Detail = $"status: expected 200, got {(int)response.StatusCode}", DurationMs = stopwatch.ElapsedMilliseconds });
            return (body, null);
        }
        catch (InvalidDataException e)
        {
            return (null, new SmokeCheck { Name = name, Passed = false, Detail = OneLine(e.Message), DurationMs = stopwatch.ElapsedMilliseconds });
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, new SmokeCheck { Name = name, Passed = false, Detail = $"no spec: no answer within {options.SmokeRequestTimeoutSeconds}s", DurationMs = stopwatch.ElapsedMilliseconds });
        }
        catch (Exception e) when (e is HttpRequestException or RefusedRequestException)
        {
            var message = e.InnerException is RefusedRequestException refused ? refused.Message : e.Message;
            return (null, new SmokeCheck { Name = name, Passed = false, Detail = "no spec: " + OneLine(message), DurationMs = stopwatch.ElapsedMilliseconds });
        }
    }

    private static SmokeCheck Named(SmokeCheck check, string name) => check with { Name = name };

    private async Task<string?> LogTailAsync(string containerId, int lines)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var stream = await docker.Containers.GetContainerLogsAsync(containerId, false,
                new ContainerLogsParameters { ShowStdout = true, ShowStderr = true, Tail = Math.Max(lines, 1).ToString(System.Globalization.CultureInfo.InvariantCulture) }, cts.Token).ConfigureAwait(false);
            var output = new BoundedOutput(options.OutputBufferBytes);
            await ContainerOutputReader.PumpAsync(stream, output, cts.Token).ConfigureAwait(false);
            return output.Tail(lines);
        }
        catch (Exception e) when (e is DockerApiException or OperationCanceledException or IOException)
        {
            logger.LogDebug(e, "No log tail for {Container}", containerId);
            return null;
        }
    }

    /// <summary>
    /// Removes the step's containers and network, each by name or id (a name that was never created is a quiet 404):
    /// the forwarder and the service at once (independent engine calls), the network after both. Never throws; never
    /// cancelled. The log tail is read before this; a throwaway smoke container needs no graceful stop (a server
    /// running as PID 1 often ignores SIGTERM), so it is removed by force.
    /// </summary>
    private async Task RemoveAllAsync(string? forwarderRef, string? serviceRef, string? networkRef)
    {
        await Task.Yield(); // the caller returns its result now; the removals run after it
        try { await Task.Delay(options.SmokeCleanupDelayMs, _stopping.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { } // the tester is stopping: remove now
        using var part = TesterTelemetry.Part("cleanup");
        await Task.WhenAll(forwarderRef is not null ? TestRunner.RemoveQuietlyAsync(docker, forwarderRef, logger) : Task.CompletedTask,
            serviceRef is not null ? TestRunner.RemoveQuietlyAsync(docker, serviceRef, logger) : Task.CompletedTask).ConfigureAwait(false);
        if (networkRef is not null) await TestRunner.RemoveNetworkQuietlyAsync(docker, networkRef, logger).ConfigureAwait(false);
    }

    private Task Track(Task cleanup)
    {
        _cleanups[cleanup] = 0;
        _ = cleanup.ContinueWith(t => _cleanups.TryRemove(t, out _), TaskScheduler.Default);
        return cleanup;
    }

    /// <summary>Waits (up to a minute) for the removals still running, so a tester that stops leaves nothing behind.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        var pending = _cleanups.Keys.ToArray();
        if (pending.Length == 0) return;
        try { await Task.WhenAll(pending).WaitAsync(TimeSpan.FromMinutes(1)).ConfigureAwait(false); }
        catch (TimeoutException) { logger.LogWarning("{Count} smoke clean-ups still running at shutdown; the leftover sweeper removes what they leave", pending.Length); }
    }

    private static string OneLine(string text)
    {
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length > 1000 ? line[..1000] + "…" : line;
    }
}
