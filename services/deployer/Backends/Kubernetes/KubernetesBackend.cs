using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Slipway.Contracts;
using static Slipway.Deployer.Backends.Kubernetes.KubernetesManifests;

namespace Slipway.Deployer.Backends.Kubernetes;

/// <summary>
/// Deploys a service to a Kubernetes cluster:
/// <list type="bullet">
/// <item>a main Deployment <c>&lt;service&gt;</c> (labels <c>app=&lt;service&gt;, track=stable</c>),</item>
/// <item>a canary Deployment <c>&lt;service&gt;-canary</c> (<c>app=&lt;service&gt;, track=canary</c>), present only
/// while a rollout is at its canary or partial stage,</item>
/// <item>a NodePort Service <c>&lt;service&gt;</c> selecting only <c>app=&lt;service&gt;</c>, so it spans both tracks
/// and traffic splits in proportion to the instances of each.</item>
/// </list>
/// Every write is a server-side apply (field manager <see cref="KubernetesOptions.FieldManager"/>, forced), so
/// re-applying a stage is idempotent. After each write the Deployments are polled until the controller reports them
/// rolled out and ready, or the timeout passes, or the controller gives up (<c>ProgressDeadlineExceeded</c>).
/// What is applied is built by <see cref="KubernetesManifests"/>; this class makes the API calls and waits.
/// </summary>
public sealed class KubernetesBackend : IDeploymentBackend
{
    private readonly IKubernetes _client;
    private readonly KubernetesOptions _options;
    private readonly KubernetesManifests _manifests;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public KubernetesBackend(IKubernetes client, KubernetesOptions options, ILogger<KubernetesBackend>? logger = null,
        TimeProvider? time = null)
    {
        _client = client;
        _options = options;
        _manifests = new KubernetesManifests(options);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    public string Name => "kubernetes";

    /// <summary>
    /// Instances running the new image at a stage: canary exactly one, partial ceil(percentage × replicas / 100)
    /// (at least one, at most all), full all.
    /// </summary>
    public static int NewInstances(RolloutStage stage, int percentage, int replicas) => stage switch
    {
        RolloutStage.Canary => Math.Min(1, replicas),
        RolloutStage.Partial => Math.Clamp((int)Math.Ceiling(percentage * (double)replicas / 100.0), 1, replicas),
        RolloutStage.Full => replicas,
        _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, "unknown rollout stage"),
    };

    public async Task<RolloutResult> ApplyAsync(DeploymentSpec spec, DeploymentSpec? previous, RolloutStage stage, int percentage,
        TimeSpan timeout, CancellationToken ct)
    {
        RolloutArguments.Check(spec, previous, Validate);
        if (stage == RolloutStage.Partial && percentage is < 1 or > 100)
            throw new ArgumentOutOfRangeException(nameof(percentage), percentage, "percentage must be 1-100");

        var ns = _options.NamespaceFor(spec.Environment);
        var deadline = _time.GetUtcNow() + timeout;
        await ApplyServiceAsync(spec, ns, ct);

        if (stage == RolloutStage.Full)
        {
            _logger.LogInformation("Kubernetes {Namespace}/{Service}: full rollout of {Image} to {Replicas} instances",
                ns, spec.Service, spec.Image, spec.Replicas);
            await ApplyDeploymentAsync(spec, ns, StableTrack, spec.Replicas, ct);
            var failure = await WaitForRolloutAsync(ns, [spec.Service], deadline, timeout, ct);
            // The canary goes only once every main instance runs the new image, so capacity never drops.
            if (failure is null)
                await DeleteDeploymentAsync(ns, CanaryName(spec.Service), ct);
            return await ResultAsync(spec, ns, failure, ct);
        }

        var fresh = NewInstances(stage, percentage, spec.Replicas);
        var stable = previous ?? spec; // no previous version: every instance runs the new one
        _logger.LogInformation("Kubernetes {Namespace}/{Service}: {Stage} rollout of {Image} to {Fresh}/{Replicas} instances",
            ns, spec.Service, stage, spec.Image, fresh, spec.Replicas);
        // Canary first (new capacity comes up), then the main Deployment shrinks to the rest.
        await ApplyDeploymentAsync(spec, ns, CanaryTrack, fresh, ct);
        await ApplyDeploymentAsync(stable, ns, StableTrack, spec.Replicas - fresh, ct);
        var stageFailure = await WaitForRolloutAsync(ns, [CanaryName(spec.Service), spec.Service], deadline, timeout, ct);
        return await ResultAsync(spec, ns, stageFailure, ct);
    }

    public async Task<RolloutResult> RollbackAsync(DeploymentSpec failed, DeploymentSpec? previous, TimeSpan timeout, CancellationToken ct)
    {
        Validate(failed);
        var ns = _options.NamespaceFor(failed.Environment);
        var deadline = _time.GetUtcNow() + timeout;
        // The canary runs the failed image: it goes first.
        await DeleteDeploymentAsync(ns, CanaryName(failed.Service), ct);
        if (previous is null)
        {
            _logger.LogWarning("Kubernetes {Namespace}/{Service}: rollback with no previous version removes the service", ns, failed.Service);
            await DeleteDeploymentAsync(ns, failed.Service, ct);
            await DeleteServiceAsync(ns, failed.Service, ct);
            return new RolloutResult(true, null, await StatusAsync(failed.Environment, failed.Service, ct));
        }

        Validate(previous);
        _logger.LogWarning("Kubernetes {Namespace}/{Service}: rolling back from {Failed} to {Previous}",
            ns, failed.Service, failed.Image, previous.Image);
        await ApplyServiceAsync(previous, ns, ct);
        await ApplyDeploymentAsync(previous, ns, StableTrack, previous.Replicas, ct);
        var failure = await WaitForRolloutAsync(ns, [previous.Service], deadline, timeout, ct);
        return await ResultAsync(previous, ns, failure is null ? null : "rollback: " + failure, ct);
    }

    public async Task<IReadOnlyList<InstanceStatus>> StatusAsync(string environment, string service, CancellationToken ct)
    {
        var ns = _options.NamespaceFor(environment);
        var pods = await _client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: $"{AppLabel}={service}", cancellationToken: ct);
        return pods.Items
            .Where(p => p.Metadata?.DeletionTimestamp is null)
            .Select(ToInstance)
            .OrderBy(i => i.Name, StringComparer.Ordinal)
            .ToList();
    }

    private async Task ApplyDeploymentAsync(DeploymentSpec spec, string ns, string track, int replicas, CancellationToken ct)
    {
        var deployment = _manifests.Deployment(spec, ns, track, replicas);
        await _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(deployment, V1Patch.PatchType.ApplyPatch),
            deployment.Metadata.Name, ns, fieldManager: _options.FieldManager, force: true, cancellationToken: ct);
    }

    private async Task ApplyServiceAsync(DeploymentSpec spec, string ns, CancellationToken ct)
    {
        var service = _manifests.Service(spec, ns);
        await _client.CoreV1.PatchNamespacedServiceAsync(new V1Patch(service, V1Patch.PatchType.ApplyPatch),
            service.Metadata.Name, ns, fieldManager: _options.FieldManager, force: true, cancellationToken: ct);
    }

    private async Task DeleteDeploymentAsync(string ns, string name, CancellationToken ct)
    {
        try
        {
            await _client.AppsV1.DeleteNamespacedDeploymentAsync(name, ns, propagationPolicy: "Background", cancellationToken: ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // already gone: deleting is idempotent
        }
    }

    private async Task DeleteServiceAsync(string ns, string name, CancellationToken ct)
    {
        try
        {
            await _client.CoreV1.DeleteNamespacedServiceAsync(name, ns, cancellationToken: ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    /// <summary>
    /// Polls the Deployments until each is rolled out (the controller saw the latest spec, and updated, ready and
    /// available replicas all equal the desired count with no old ones left). Null when they are; otherwise why not.
    /// </summary>
    private async Task<string?> WaitForRolloutAsync(string ns, IReadOnlyList<string> names, DateTimeOffset deadline,
        TimeSpan timeout, CancellationToken ct)
    {
        var pending = new Dictionary<string, string>(StringComparer.Ordinal);
        while (true)
        {
            pending.Clear();
            foreach (var name in names)
            {
                V1Deployment deployment;
                try
                {
                    deployment = await _client.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: ct);
                }
                catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
                {
                    pending[name] = "not found";
                    continue;
                }
                var (done, state, stalled) = RolloutState(deployment);
                if (stalled is not null)
                    return $"deployment {ns}/{name}: {stalled} ({state}){await PodProblemsAsync(ns, deployment, ct)}";
                if (!done)
                    pending[name] = state;
            }
            if (pending.Count == 0)
                return null;
            if (_time.GetUtcNow() >= deadline)
            {
                var first = pending.First();
                V1Deployment? stuck = null;
                try { stuck = await _client.AppsV1.ReadNamespacedDeploymentAsync(first.Key, ns, cancellationToken: ct); }
                catch (HttpOperationException) { }
                var problems = stuck is null ? "" : await PodProblemsAsync(ns, stuck, ct);
                return $"timed out after {timeout.TotalSeconds:0.#}s waiting for readiness: " +
                       string.Join("; ", pending.Select(p => $"deployment {ns}/{p.Key}: {p.Value}")) + problems;
            }
            await Task.Delay(_options.PollInterval, _time, ct);
        }
    }

    /// <summary>Whether a Deployment is fully rolled out, a short description of its state, and why it stalled, if it did.</summary>
    public static (bool Done, string State, string? Stalled) RolloutState(V1Deployment deployment)
    {
        var desired = deployment.Spec?.Replicas ?? 1;
        var status = deployment.Status;
        var generation = deployment.Metadata?.Generation ?? 0;
        var observed = status?.ObservedGeneration ?? 0;
        int updated = status?.UpdatedReplicas ?? 0, ready = status?.ReadyReplicas ?? 0,
            available = status?.AvailableReplicas ?? 0, total = status?.Replicas ?? 0;
        var state = $"{ready}/{desired} ready, {updated} updated, {available} available";

        // Until the controller has seen the latest spec, its status and conditions describe an older one.
        if (observed < generation)
            return (false, $"waiting for the controller to observe generation {generation}", null);

        var progressing = status?.Conditions?.FirstOrDefault(c => c.Type == "Progressing");
        if (progressing is { Status: "False", Reason: "ProgressDeadlineExceeded" })
            return (false, state, $"ProgressDeadlineExceeded: {progressing.Message}".TrimEnd(' ', ':'));
        var replicaFailure = status?.Conditions?.FirstOrDefault(c => c.Type == "ReplicaFailure" && c.Status == "True");
        if (replicaFailure is not null)
            return (false, state, $"ReplicaFailure {replicaFailure.Reason}: {replicaFailure.Message}");

        var done = updated == desired && ready == desired && available == desired && total == desired;
        return (done, state, null);
    }

    /// <summary>Why the Deployment's pods are not ready, from their containers' waiting/terminated reasons.</summary>
    private async Task<string> PodProblemsAsync(string ns, V1Deployment deployment, CancellationToken ct)
    {
        var labels = deployment.Spec?.Selector?.MatchLabels;
        if (labels is null || labels.Count == 0)
            return "";
        try
        {
            var selector = string.Join(",", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));
            var pods = await _client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector, cancellationToken: ct);
            var reasons = pods.Items
                .SelectMany(p => p.Status?.ContainerStatuses ?? [])
                .Select(c => c.State?.Waiting is { } w ? $"{c.Image}: {w.Reason}{(string.IsNullOrEmpty(w.Message) ? "" : " - " + w.Message)}"
                    : c.LastState?.Terminated is { } t ? $"{c.Image}: last exit {t.ExitCode} {t.Reason}" : null)
                .OfType<string>()
                .Distinct(StringComparer.Ordinal)
                .Take(3)
                .ToList();
            return reasons.Count == 0 ? "" : "; pods: " + string.Join("; ", reasons);
        }
        catch (HttpOperationException)
        {
            return "";
        }
    }

    private async Task<RolloutResult> ResultAsync(DeploymentSpec spec, string ns, string? failure, CancellationToken ct)
    {
        if (failure is not null)
            _logger.LogWarning("Kubernetes {Namespace}/{Service}: rollout unhealthy: {Reason}", ns, spec.Service, failure);
        var instances = await StatusAsync(spec.Environment, spec.Service, ct);
        return new RolloutResult(failure is null, failure, instances);
    }

    private static InstanceStatus ToInstance(V1Pod pod)
    {
        var container = pod.Spec?.Containers?.FirstOrDefault();
        var ready = pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") ?? false;
        var port = container?.Ports?.FirstOrDefault()?.ContainerPort;
        var ip = pod.Status?.PodIP;
        string? endpoint = ip is null ? null : port is null ? ip : ip.Contains(':') ? $"[{ip}]:{port}" : $"{ip}:{port}";
        return new InstanceStatus(pod.Metadata?.Name ?? "", container?.Image ?? "", ready, endpoint);
    }
}
