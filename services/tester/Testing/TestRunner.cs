using System.Diagnostics;
using System.Globalization;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;

namespace Slipway.Tester.Testing;

/// <summary>
/// Runs a test image's entry point the way untrusted code must run (design, "Security"): no network, CPU,
/// memory and pid limits, no capabilities and no privilege gain, the image's own non-root user, a time limit.
/// The exit code decides. Output is kept in a bounded ring buffer; the container is always removed.
/// </summary>
public sealed class TestRunner(IDockerClient docker, TesterOptions options, ILogger<TestRunner> logger)
{
    /// <summary>Label every container of this service carries, so leftovers can be found by operators.</summary>
    public const string ComponentLabel = "slipway.component";

    public async Task<TestRunResult> RunAsync(TestRunRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.Image);
        var stopwatch = Stopwatch.StartNew();
        var limit = request.TimeLimit ?? TimeSpan.FromSeconds(options.DefaultTimeLimitSeconds);
        if (limit <= TimeSpan.Zero || limit > TimeSpan.FromSeconds(options.MaxTimeLimitSeconds))
            return Failed($"time limit {FormatLimit(limit)} is outside 0..{FormatLimit(TimeSpan.FromSeconds(options.MaxTimeLimitSeconds))}");

        var check = await ImagePolicy.CheckAsync(docker, request.Image, request.AllowRootUser, ct);
        if (check.Refusal is { } refusal) return Failed(refusal);
        var user = check.User;

        var output = new BoundedOutput(options.OutputBufferBytes);
        string? containerId = null;
        try
        {
            var created = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Name = "slipway-test-" + Guid.NewGuid().ToString("N")[..12],
                Image = request.Image,
                Cmd = request.Arguments is { Count: > 0 } args ? [.. args] : null,
                Env = request.Env?.Select(kv => $"{kv.Key}={kv.Value}").ToList(),
                User = string.IsNullOrWhiteSpace(user) ? null : user, // explicit, so what we checked is what runs
                Labels = Labels(request.Labels, "test", options.Owner),
                AttachStdout = true,
                AttachStderr = true,
                Tty = false,
                NetworkDisabled = true,
                HostConfig = Isolation(options, networkMode: "none"),
            }, CancellationToken.None).ConfigureAwait(false); // to its answer: a create cancelled mid-request could still happen, unseen
            containerId = created.ID;
            ct.ThrowIfCancellationRequested();

            // Attach before start so not a byte of early output is lost.
            using var stream = await docker.Containers.AttachContainerAsync(containerId, false,
                new ContainerAttachParameters { Stream = true, Stdout = true, Stderr = true }, ct).ConfigureAwait(false);
            using var pumpCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var pump = ContainerOutputReader.PumpAsync(stream, output, pumpCts.Token);

            await docker.Containers.StartContainerAsync(containerId, new ContainerStartParameters(), ct).ConfigureAwait(false);
            logger.LogInformation("Test container {Container} started from {Image} (limit {Limit})", containerId[..12], request.Image, limit);
            request.Started?.Invoke();

            using var limitCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limitCts.CancelAfter(limit);
            ContainerWaitResponse? exited = null;
            try
            {
                exited = await docker.Containers.WaitContainerAsync(containerId, limitCts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // The time limit: kill now (SIGKILL; a test past its limit gets no grace period).
                await KillQuietlyAsync(containerId).ConfigureAwait(false);
            }

            // The attach stream ends when the container exits; bound the wait in case the engine keeps it open.
            await Task.WhenAny(pump, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)).ConfigureAwait(false);
            await pumpCts.CancelAsync().ConfigureAwait(false);
            try { await pump.ConfigureAwait(false); } catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException) { }

            var tail = TailOf(output, request);
            if (exited is null)
                return Failed($"tests exceeded their time limit of {FormatLimit(limit)} and were killed", tail, timedOut: true);

            var code = (int)exited.StatusCode;
            if (code == 0 && request.AfterSuccess is { } after && await after(containerId, tail, ct).ConfigureAwait(false) is { } afterFailure)
                return Failed(afterFailure, tail, exitCode: 0);
            if (code == 0)
                return new TestRunResult { Succeeded = true, ExitCode = 0, OutputTail = tail, Reason = "tests exited with code 0", Duration = stopwatch.Elapsed };

            var state = (await docker.Containers.InspectContainerAsync(containerId, CancellationToken.None).ConfigureAwait(false)).State;
            var reason = state?.OOMKilled == true
                ? $"tests ran out of memory (limit {options.MemoryBytes / (1024 * 1024)} MiB) and were killed (exit code {code})"
                : $"tests exited with code {code}";
            return Failed(reason, tail, exitCode: code);
        }
        catch (DockerApiException e)
        {
            logger.LogWarning(e, "Test container for {Image} could not run", request.Image);
            return Failed($"test container could not run: {OneLine(e.ResponseBody ?? e.Message)}", TailOf(output, request));
        }
        finally
        {
            if (containerId is not null) await RemoveQuietlyAsync(docker, containerId, logger).ConfigureAwait(false);
        }

        TestRunResult Failed(string reason, string? tail = null, int? exitCode = null, bool timedOut = false) => new()
        {
            Succeeded = false, ExitCode = exitCode, TimedOut = timedOut, OutputTail = tail, Duration = stopwatch.Elapsed,
            Reason = Runs.SecretMask.Apply(reason, request.Secrets)!,
        };
    }

    /// <summary>
    /// The output's tail with credentials masked. When the ring buffer dropped older output, its first kept line may
    /// hold only the end of a secret (which no mask would match), so that line is dropped.
    /// </summary>
    private static string? TailOf(BoundedOutput output, TestRunRequest request)
    {
        if (request.Secrets.Count == 0) return output.Tail(request.TailLines);
        var text = output.Text();
        if (output.DroppedOlderOutput && text.IndexOf('\n') is var cut and >= 0) text = text[(cut + 1)..];
        return Slipway.Contracts.Output.Tail(Runs.SecretMask.Apply(text, request.Secrets)!, request.TailLines);
    }

    /// <summary>The isolation every container of this service gets (limits and a bounded log on the host); only the network mode differs.</summary>
    public static HostConfig Isolation(TesterOptions options, string networkMode) => new()
    {
        NetworkMode = networkMode,
        Memory = options.MemoryBytes,
        MemorySwap = options.MemoryBytes, // equal to Memory: no swap on top of the limit
        NanoCPUs = (long)(options.Cpus * 1e9),
        PidsLimit = options.PidsLimit,
        CapDrop = ["ALL"],
        SecurityOpt = ["no-new-privileges"], // setuid binaries cannot regain root
        AutoRemove = false, // we remove it ourselves, after reading its exit code and logs
        // The engine's own copy of the output is bounded on the host whatever the daemon's default log settings.
        LogConfig = new LogConfig
        {
            Type = "json-file",
            Config = new Dictionary<string, string>
            {
                ["max-size"] = options.ContainerLogMaxBytes.ToString(CultureInfo.InvariantCulture),
                ["max-file"] = options.ContainerLogMaxFiles.ToString(CultureInfo.InvariantCulture),
            },
        },
    };

    /// <summary>The label <see cref="TesterOptions.Owner"/> sets, the same the deployer's containers carry.</summary>
    public const string OwnerLabel = "slipway.owner";

    public static Dictionary<string, string> Labels(IReadOnlyDictionary<string, string>? labels, string step, string? owner)
    {
        var all = labels is null ? new Dictionary<string, string>() : new Dictionary<string, string>(labels);
        all[ComponentLabel] = "tester";
        all["slipway.step-kind"] = step;
        if (owner is not null) all[OwnerLabel] = owner;
        else all.Remove(OwnerLabel); // never one a run's labels brought
        return all;
    }

    public static async Task RemoveQuietlyAsync(IDockerClient docker, string containerId, ILogger logger)
    {
        // CancellationToken.None: removal must happen also when the run was cancelled.
        try
        {
            await docker.Containers.RemoveContainerAsync(containerId, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (DockerContainerNotFoundException) { }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not remove container {Container}", containerId);
        }
    }

    /// <summary>Removes a network by name or id; true when it went, false when it was gone already or could not go (logged).</summary>
    public static async Task<bool> RemoveNetworkQuietlyAsync(IDockerClient docker, string network, ILogger logger)
    {
        // CancellationToken.None: removal must happen also when the run was cancelled.
        try
        {
            await docker.Networks.DeleteNetworkAsync(network, CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (DockerNetworkNotFoundException) { return false; }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not remove network {Network}", network);
            return false;
        }
    }

    private async Task KillQuietlyAsync(string containerId)
    {
        try { await docker.Containers.KillContainerAsync(containerId, new ContainerKillParameters { Signal = "KILL" }, CancellationToken.None).ConfigureAwait(false); }
        catch (DockerApiException e) { logger.LogDebug(e, "Kill of {Container} failed (already exited?)", containerId); }
    }

    /// <summary>"20s", "20m", "1h30m": how a person writes a limit.</summary>
    public static string FormatLimit(TimeSpan limit)
    {
        if (limit < TimeSpan.FromMinutes(2) || limit.TotalSeconds % 60 != 0)
            return Math.Round(limit.TotalSeconds, 1).ToString(CultureInfo.InvariantCulture) + "s";
        var minutes = (long)limit.TotalMinutes;
        return minutes % 60 == 0 ? $"{minutes / 60}h" : minutes > 60 ? $"{minutes / 60}h{minutes % 60}m" : $"{minutes}m";
    }

    private static string OneLine(string text)
    {
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length > 500 ? line[..500] + "…" : line;
    }
}
