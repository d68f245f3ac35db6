using System.Net;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Slipway.Tests.Integration.Deployer;

/// <summary>One request the fake API server received, as sent on the wire.</summary>
public sealed record FakeApiRequest(string Method, string Path, string? ContentType, string? FieldManager, string? Force,
    string? LabelSelector, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>
/// A minimal in-process stand-in for a Kubernetes API server (no real one can run on these machines), on 127.0.0.1
/// and a free port. It serves only what <c>KubernetesBackend</c> calls — server-side apply (PATCH
/// <c>application/apply-patch+yaml</c>) of Deployments and Services, GET and DELETE of both, and listing pods by label
/// selector — keeps objects in memory, records every request, and plays the Deployment controller: an applied
/// Deployment becomes ready for healthy images, never ready for images marked broken (pods in CrashLoopBackOff), and
/// reports <c>ProgressDeadlineExceeded</c> for images marked stalled. Images marked slow are first reported with an
/// observedGeneration behind the generation, the way a busy controller lags.
/// </summary>
public sealed class FakeKubernetesApiServer : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly List<FakeApiRequest> _requests = [];
    private readonly Dictionary<(string Ns, string Name), StoredDeployment> _deployments = [];
    private readonly Dictionary<(string Ns, string Name), V1Service> _services = [];
    private readonly HashSet<string> _broken = new(StringComparer.Ordinal);
    private readonly HashSet<string> _stalled = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _slow = new(StringComparer.Ordinal);
    private WebApplication? _app;

    private sealed class StoredDeployment
    {
        public required V1Deployment Object { get; set; }
        public int ReadsSinceChange { get; set; }
    }

    public string Url { get; private set; } = "";

    public static async Task<FakeKubernetesApiServer> StartAsync()
    {
        var server = new FakeKubernetesApiServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server._app = app;
        server.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return server;
    }

    /// <summary>A client of this server, as the backend would get from its options.</summary>
    public IKubernetes CreateClient() => new k8s.Kubernetes(new KubernetesClientConfiguration { Host = Url });

    /// <summary>Pods of this image never become ready (CrashLoopBackOff); the Deployment never completes.</summary>
    public void MarkBroken(string image) { lock (_gate) _broken.Add(image); }

    /// <summary>Like broken, and the controller reports Progressing=False ProgressDeadlineExceeded.</summary>
    public void MarkStalled(string image) { lock (_gate) _stalled.Add(image); }

    /// <summary>After each change, the first <paramref name="reads"/> reads show the controller not caught up.</summary>
    public void MarkSlow(string image, int reads) { lock (_gate) _slow[image] = reads; }

    public IReadOnlyList<FakeApiRequest> Requests { get { lock (_gate) return _requests.ToList(); } }

    public void ClearRequests() { lock (_gate) _requests.Clear(); }

    /// <summary>A Deployment as stored (with the simulated status), or null.</summary>
    public V1Deployment? Deployment(string ns, string name)
    {
        lock (_gate)
            return _deployments.TryGetValue((ns, name), out var d) ? WithStatus(d, countRead: false) : null;
    }

    public V1Service? Service(string ns, string name)
    {
        lock (_gate)
            return _services.GetValueOrDefault((ns, name));
    }

    public IReadOnlyList<string> DeploymentNames(string ns)
    {
        lock (_gate)
            return _deployments.Keys.Where(k => k.Ns == ns).Select(k => k.Name).Order(StringComparer.Ordinal).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
            await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        try
        {
            await HandleCoreAsync(context);
        }
        catch (Exception e)
        {
            context.Response.StatusCode = 500;
            await context.Response.WriteAsync("fake API server: " + e);
        }
    }

    private async Task HandleCoreAsync(HttpContext context)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
            body = await reader.ReadToEndAsync();
        var recorded = new FakeApiRequest(request.Method, request.Path.Value ?? "", request.ContentType,
            request.Query["fieldManager"].FirstOrDefault(), request.Query["force"].FirstOrDefault(),
            request.Query["labelSelector"].FirstOrDefault(), body);
        int status;
        object? response;
        lock (_gate)
        {
            _requests.Add(recorded);
            try
            {
                (status, response) = Route(recorded);
            }
            catch (Exception e)
            {
                (status, response) = (500, Failure(500, "InternalError", $"fake API server: {e}"));
            }
        }
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(response is null ? "{}" : KubernetesJson.Serialize(response));
    }

    private (int, object?) Route(FakeApiRequest r)
    {
        var s = r.Path.Trim('/').Split('/');
        // /apis/apps/v1/namespaces/{ns}/deployments/{name}
        if (s is ["apis", "apps", "v1", "namespaces", var ns, "deployments", var name])
            return r.Method switch
            {
                "PATCH" => ApplyDeployment(r, ns, name),
                "GET" => _deployments.TryGetValue((ns, name), out var d) ? (200, WithStatus(d, countRead: true)) : NotFound("deployments", name),
                "DELETE" => _deployments.Remove((ns, name)) ? (200, Success(name)) : NotFound("deployments", name),
                _ => (405, Failure(405, "MethodNotAllowed", r.Method)),
            };
        // /api/v1/namespaces/{ns}/services/{name}
        if (s is ["api", "v1", "namespaces", var sns, "services", var sname])
            return r.Method switch
            {
                "PATCH" => ApplyService(r, sns, sname),
                "GET" => _services.TryGetValue((sns, sname), out var svc) ? (200, svc) : NotFound("services", sname),
                // Like the real API server, deleting a Service answers with the deleted object.
                "DELETE" => _services.Remove((sns, sname), out var deleted) ? (200, deleted) : NotFound("services", sname),
                _ => (405, Failure(405, "MethodNotAllowed", r.Method)),
            };
        // /api/v1/namespaces/{ns}/pods
        if (s is ["api", "v1", "namespaces", var pns, "pods"] && r.Method == "GET")
            return (200, ListPods(pns, r.LabelSelector));
        return (404, Failure(404, "NotFound", $"the fake API server does not serve {r.Method} {r.Path}"));
    }

    private static string? CheckApply(FakeApiRequest r, string kind, string apiVersion, string name)
    {
        // What a real API server insists on for server-side apply.
        if (r.ContentType is null || !r.ContentType.StartsWith("application/apply-patch+yaml", StringComparison.Ordinal))
            return $"unsupported patch content type {r.ContentType}";
        if (string.IsNullOrEmpty(r.FieldManager))
            return "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch";
        var json = r.Json;
        if (!json.TryGetProperty("apiVersion", out var v) || v.GetString() != apiVersion)
            return "apiVersion missing or wrong";
        if (!json.TryGetProperty("kind", out var k) || k.GetString() != kind)
            return "kind missing or wrong";
        if (!json.TryGetProperty("metadata", out var m) || !m.TryGetProperty("name", out var n) || n.GetString() != name)
            return "metadata.name does not match the URL";
        return null;
    }

    private (int, object?) ApplyDeployment(FakeApiRequest r, string ns, string name)
    {
        if (CheckApply(r, "Deployment", "apps/v1", name) is { } error)
            return (r.ContentType?.StartsWith("application/apply-patch", StringComparison.Ordinal) == true ? 422 : 415, Failure(422, "Invalid", error));
        var applied = KubernetesJson.Deserialize<V1Deployment>(r.Body);
        applied.Metadata.NamespaceProperty = ns;
        applied.Status = null;
        if (_deployments.TryGetValue((ns, name), out var existing))
        {
            var changed = KubernetesJson.Serialize(existing.Object.Spec) != KubernetesJson.Serialize(applied.Spec);
            applied.Metadata.Generation = (existing.Object.Metadata.Generation ?? 1) + (changed ? 1 : 0);
            applied.Metadata.Uid = existing.Object.Metadata.Uid;
            existing.Object = applied;
            if (changed)
                existing.ReadsSinceChange = 0;
            return (200, WithStatus(existing, countRead: false));
        }
        applied.Metadata.Generation = 1;
        applied.Metadata.Uid = Guid.NewGuid().ToString();
        var stored = new StoredDeployment { Object = applied };
        _deployments[(ns, name)] = stored;
        return (201, WithStatus(stored, countRead: false));
    }

    private (int, object?) ApplyService(FakeApiRequest r, string ns, string name)
    {
        if (CheckApply(r, "Service", "v1", name) is { } error)
            return (422, Failure(422, "Invalid", error));
        var applied = KubernetesJson.Deserialize<V1Service>(r.Body);
        applied.Metadata.NamespaceProperty = ns;
        foreach (var port in applied.Spec.Ports)
            port.NodePort ??= _services.GetValueOrDefault((ns, name))?.Spec.Ports.FirstOrDefault(p => p.Name == port.Name)?.NodePort ?? 31000 + _services.Count;
        var created = !_services.ContainsKey((ns, name));
        _services[(ns, name)] = applied;
        return (created ? 201 : 200, applied);
    }

    private static string ImageOf(V1Deployment d) => d.Spec.Template.Spec.Containers[0].Image;

    /// <summary>The simulated Deployment controller's view of the object.</summary>
    private V1Deployment WithStatus(StoredDeployment stored, bool countRead)
    {
        var d = KubernetesJson.Deserialize<V1Deployment>(KubernetesJson.Serialize(stored.Object));
        var generation = d.Metadata.Generation ?? 1;
        var desired = d.Spec.Replicas ?? 1;
        var image = ImageOf(d);
        if (countRead)
            stored.ReadsSinceChange++;
        if (_slow.TryGetValue(image, out var lag) && stored.ReadsSinceChange <= lag)
        {
            // The controller has not seen this generation yet: status still describes the previous one.
            d.Status = new V1DeploymentStatus { ObservedGeneration = generation - 1, Replicas = 0, UpdatedReplicas = 0, ReadyReplicas = 0, AvailableReplicas = 0 };
            return d;
        }
        var healthy = !_broken.Contains(image) && !_stalled.Contains(image);
        var conditions = new List<V1DeploymentCondition>
        {
            new() { Type = "Available", Status = healthy || desired == 0 ? "True" : "False", Reason = healthy ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable" },
            _stalled.Contains(image) && desired > 0
                ? new() { Type = "Progressing", Status = "False", Reason = "ProgressDeadlineExceeded", Message = $"ReplicaSet \"{d.Metadata.Name}-{Hash(image)}\" has timed out progressing." }
                : new() { Type = "Progressing", Status = "True", Reason = healthy ? "NewReplicaSetAvailable" : "ReplicaSetUpdated" },
        };
        d.Status = new V1DeploymentStatus
        {
            ObservedGeneration = generation,
            Replicas = desired,
            UpdatedReplicas = desired,
            ReadyReplicas = healthy ? desired : 0,
            AvailableReplicas = healthy ? desired : 0,
            UnavailableReplicas = healthy ? 0 : desired,
            Conditions = conditions,
        };
        return d;
    }

    private V1PodList ListPods(string ns, string? labelSelector)
    {
        var wanted = (labelSelector ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var pods = new List<V1Pod>();
        foreach (var ((dns, name), stored) in _deployments.OrderBy(d => d.Key.Name, StringComparer.Ordinal))
        {
            var d = stored.Object;
            var labels = d.Spec.Template.Metadata.Labels;
            if (dns != ns || wanted.Any(w => !labels.TryGetValue(w.Key, out var v) || v != w.Value))
                continue;
            var image = ImageOf(d);
            var healthy = !_broken.Contains(image) && !_stalled.Contains(image);
            for (var i = 0; i < (d.Spec.Replicas ?? 1); i++)
            {
                var container = d.Spec.Template.Spec.Containers[0];
                pods.Add(new V1Pod
                {
                    ApiVersion = "v1",
                    Kind = "Pod",
                    Metadata = new V1ObjectMeta { Name = $"{name}-{Hash(image)}-{i}", NamespaceProperty = ns, Labels = labels },
                    Spec = new V1PodSpec { Containers = [container] },
                    Status = new V1PodStatus
                    {
                        Phase = "Running",
                        PodIP = $"10.1.{pods.Count / 250}.{pods.Count % 250 + 2}",
                        Conditions = [new V1PodCondition { Type = "Ready", Status = healthy ? "True" : "False" }],
                        ContainerStatuses =
                        [
                            new V1ContainerStatus
                            {
                                Name = container.Name, Image = image, ImageID = "", Ready = healthy, RestartCount = healthy ? 0 : 4,
                                State = healthy
                                    ? new V1ContainerState { Running = new V1ContainerStateRunning() }
                                    : new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "CrashLoopBackOff", Message = "back-off 40s restarting failed container" } },
                            },
                        ],
                    },
                });
            }
        }
        return new V1PodList { ApiVersion = "v1", Kind = "PodList", Metadata = new V1ListMeta(), Items = pods };
    }

    private static string Hash(string image) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(image)))[..10];

    // V1Status has no JSON writer in KubernetesClient (it only reads them): written as plain objects.
    private static object Success(string name) =>
        new { apiVersion = "v1", kind = "Status", status = "Success", details = new { name } };

    private static (int, object?) NotFound(string kind, string name) =>
        (404, Failure(404, "NotFound", $"{kind} \"{name}\" not found"));

    private static object Failure(int code, string reason, string message) =>
        new { apiVersion = "v1", kind = "Status", status = "Failure", code, reason, message };
}
