using System.Diagnostics;
using System.Text.Json;
using Slipway.Contracts;
using Slipway.Deployer.Backends;
using Slipway.Deployer.Backends.Kubernetes;

namespace Slipway.Tests.Integration.Deployer;

/// <summary>
/// The <c>kubernetes</c> deployment backend against <see cref="FakeKubernetesApiServer"/>: no Kubernetes API server can
/// run on these machines, so these tests check the exact requests the backend sends (server-side apply, bodies,
/// replicas per stage, deletes) and its reaction to a simulated controller — not a real cluster's behaviour.
/// </summary>
public sealed class KubernetesBackendFakeApiServerTests : IAsyncLifetime
{
    private const string Ns = "slipway-staging";
    private const string DeploymentsPath = "/apis/apps/v1/namespaces/slipway-staging/deployments/";
    private const string ServicePath = "/api/v1/namespaces/slipway-staging/services/citoid";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private FakeKubernetesApiServer _server = null!;
    private KubernetesOptions _options = null!;
    private KubernetesBackend _backend = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeKubernetesApiServer.StartAsync();
        _options = new KubernetesOptions { Host = _server.Url, PollInterval = TimeSpan.FromMilliseconds(20) };
        _backend = new KubernetesBackend(_server.CreateClient(), _options);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static DeploymentSpec Spec(string image, int replicas = 4) => new(
        "staging", "citoid", image, replicas, 1970, "/_info", "/healthz",
        new Dictionary<string, string> { ["ZOTERO"] = "http://zotero:1969", ["LOG_LEVEL"] = "info" }, 512L * 1024 * 1024, 0.5);

    private static readonly DeploymentSpec V1 = Spec("registry.local/citoid:v1");
    private static readonly DeploymentSpec V2 = Spec("registry.local/citoid:v2");

    private List<FakeApiRequest> Applies(string path) =>
        _server.Requests.Where(r => r.Method == "PATCH" && r.Path == path).ToList();

    private JsonElement LastApplied(string name) => Applies(DeploymentsPath + name).Last().Json;

    private static int Replicas(JsonElement deployment) => deployment.GetProperty("spec").GetProperty("replicas").GetInt32();

    private static string Image(JsonElement deployment) =>
        deployment.GetProperty("spec").GetProperty("template").GetProperty("spec").GetProperty("containers")[0].GetProperty("image").GetString()!;

    private static Dictionary<string, string> Map(JsonElement e) =>
        e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

    [Fact]
    public async Task Canary_FakeApiServer_EveryWriteIsServerSideApplyWithFieldManagerSlipway()
    {
        var result = await _backend.ApplyAsync(V2, V1, RolloutStage.Canary, 1, Timeout, default);

        Assert.True(result.Healthy, result.Reason);
        var writes = _server.Requests.Where(r => r.Method is "PATCH" or "PUT" or "POST").ToList();
        Assert.Equal([ServicePath, DeploymentsPath + "citoid-canary", DeploymentsPath + "citoid"], writes.Select(w => w.Path));
        Assert.All(writes, w =>
        {
            Assert.Equal("PATCH", w.Method);
            Assert.StartsWith("application/apply-patch+yaml", w.ContentType);
            Assert.Equal("slipway", w.FieldManager);
            Assert.Equal("true", w.Force);
        });
    }

    [Fact]
    public async Task Canary_FakeApiServer_AppliesNodePortServiceSelectingOnlyTheApp()
    {
        await _backend.ApplyAsync(V2, V1, RolloutStage.Canary, 1, Timeout, default);

        var service = Applies(ServicePath).Single().Json;
        Assert.Equal("v1", service.GetProperty("apiVersion").GetString());
        Assert.Equal("Service", service.GetProperty("kind").GetString());
        Assert.Equal("citoid", service.GetProperty("metadata").GetProperty("name").GetString());
        var spec = service.GetProperty("spec");
        Assert.Equal("NodePort", spec.GetProperty("type").GetString());
        // Only app=citoid: the Service spans the stable and the canary track.
        Assert.Equal(new Dictionary<string, string> { ["app"] = "citoid" }, Map(spec.GetProperty("selector")));
        var port = Assert.Single(spec.GetProperty("ports").EnumerateArray().ToList());
        Assert.Equal(1970, port.GetProperty("port").GetInt32());
        Assert.Equal(1970, port.GetProperty("targetPort").GetInt32());
        Assert.Equal("TCP", port.GetProperty("protocol").GetString());
        Assert.False(port.TryGetProperty("nodePort", out _)); // none configured: the cluster allocates one
    }

    [Fact]
    public async Task Canary_FakeApiServer_OneCanaryInstanceOnTheNewImageAndTheRestOnThePrevious()
    {
        var result = await _backend.ApplyAsync(V2, V1, RolloutStage.Canary, 1, Timeout, default);

        var canary = LastApplied("citoid-canary");
        Assert.Equal("apps/v1", canary.GetProperty("apiVersion").GetString());
        Assert.Equal("Deployment", canary.GetProperty("kind").GetString());
        Assert.Equal("citoid-canary", canary.GetProperty("metadata").GetProperty("name").GetString());
        Assert.Equal(1, Replicas(canary));
        Assert.Equal("registry.local/citoid:v2", Image(canary));
        Assert.Equal(new Dictionary<string, string> { ["app"] = "citoid", ["track"] = "canary" },
            Map(canary.GetProperty("spec").GetProperty("selector").GetProperty("matchLabels")));
        var podLabels = Map(canary.GetProperty("spec").GetProperty("template").GetProperty("metadata").GetProperty("labels"));
        Assert.Equal("citoid", podLabels["app"]);
        Assert.Equal("canary", podLabels["track"]);

        var main = LastApplied("citoid");
        Assert.Equal(3, Replicas(main));
        Assert.Equal("registry.local/citoid:v1", Image(main));
        Assert.Equal(new Dictionary<string, string> { ["app"] = "citoid", ["track"] = "stable" },
            Map(main.GetProperty("spec").GetProperty("selector").GetProperty("matchLabels")));
        Assert.Equal("stable", main.GetProperty("metadata").GetProperty("labels").GetProperty("track").GetString());

        Assert.True(result.Healthy, result.Reason);
        Assert.Equal(4, result.Instances.Count);
        Assert.All(result.Instances, i => Assert.True(i.Ready));
        Assert.Single(result.Instances, i => i.Image == "registry.local/citoid:v2" && i.Name.StartsWith("citoid-canary-", StringComparison.Ordinal));
        Assert.Equal(3, result.Instances.Count(i => i.Image == "registry.local/citoid:v1"));
        Assert.All(result.Instances, i => Assert.EndsWith(":1970", i.Endpoint));
    }

    [Fact]
    public async Task Canary_FakeApiServer_ContainerHasProbesResourcesEnvAndNoRoot()
    {
        await _backend.ApplyAsync(V2, V1, RolloutStage.Canary, 1, Timeout, default);

        var podSpec = LastApplied("citoid-canary").GetProperty("spec").GetProperty("template").GetProperty("spec");
        Assert.True(podSpec.GetProperty("securityContext").GetProperty("runAsNonRoot").GetBoolean());
        var container = podSpec.GetProperty("containers")[0];
        Assert.Equal("citoid", container.GetProperty("name").GetString());
        Assert.Equal(1970, container.GetProperty("ports")[0].GetProperty("containerPort").GetInt32());
        var readiness = container.GetProperty("readinessProbe").GetProperty("httpGet");
        Assert.Equal("/_info", readiness.GetProperty("path").GetString());
        Assert.Equal(1970, readiness.GetProperty("port").GetInt32());
        var liveness = container.GetProperty("livenessProbe").GetProperty("httpGet");
        Assert.Equal("/healthz", liveness.GetProperty("path").GetString());
        Assert.Equal(1970, liveness.GetProperty("port").GetInt32());
        var limits = Map(container.GetProperty("resources").GetProperty("limits"));
        Assert.Equal(new Dictionary<string, string> { ["memory"] = "512Mi", ["cpu"] = "500m" }, limits);
        Assert.Equal(limits, Map(container.GetProperty("resources").GetProperty("requests")));
        var env = container.GetProperty("env").EnumerateArray()
            .Select(e => (e.GetProperty("name").GetString(), e.GetProperty("value").GetString())).ToList();
        Assert.Equal([("LOG_LEVEL", "info"), ("ZOTERO", "http://zotero:1969")], env);
    }

    [Theory]
    [InlineData(10, 1)]  // ceil(0.4) = 1
    [InlineData(25, 1)]  // ceil(1.0) = 1
    [InlineData(30, 2)]  // ceil(1.2) = 2
    [InlineData(50, 2)]
    [InlineData(60, 3)]  // ceil(2.4) = 3
    [InlineData(100, 4)]
    public async Task Partial_FakeApiServer_CanaryGetsCeilingOfPercentageAndMainTheRest(int percentage, int expectedCanary)
    {
        var result = await _backend.ApplyAsync(V2, V1, RolloutStage.Partial, percentage, Timeout, default);

        Assert.True(result.Healthy, result.Reason);
        Assert.Equal(expectedCanary, Replicas(LastApplied("citoid-canary")));
        Assert.Equal("registry.local/citoid:v2", Image(LastApplied("citoid-canary")));
        Assert.Equal(4 - expectedCanary, Replicas(LastApplied("citoid")));
        Assert.Equal("registry.local/citoid:v1", Image(LastApplied("citoid")));
        Assert.Equal(expectedCanary, result.Instances.Count(i => i.Image == "registry.local/citoid:v2"));
        Assert.Equal(KubernetesBackend.NewInstances(RolloutStage.Partial, percentage, 4), expectedCanary);
    }

    [Fact]
    public async Task Full_FakeApiServer_MainRunsEveryReplicaOnTheNewImageAndTheCanaryIsDeleted()
    {
        await _backend.ApplyAsync(V2, V1, RolloutStage.Canary, 1, Timeout, default);
        await _backend.ApplyAsync(V2, V1, RolloutStage.Partial, 50, Timeout, default);
        _server.ClearRequests();

        var result = await _backend.ApplyAsync(V2, V1, RolloutStage.Full, 100, Timeout, default);

        Assert.True(result.Healthy, result.Reason);
        var main = LastApplied("citoid");
        Assert.Equal(4, Replicas(main));
        Assert.Equal("registry.local/citoid:v2", Image(main));
        Assert.Empty(Applies(DeploymentsPath + "citoid-canary"));
        var delete = Assert.Single(_server.Requests, r => r.Method == "DELETE");
        Assert.Equal(DeploymentsPath + "citoid-canary", delete.Path);
        // The canary goes only after the main Deployment was seen ready.
        var requests = _server.Requests.ToList();
        Assert.True(requests.FindLastIndex(r => r.Method == "GET" && r.Path == DeploymentsPath + "citoid") < requests.IndexOf(delete));
        Assert.Equal(["citoid"], _server.DeploymentNames(Ns));
        Assert.Equal(4, result.Instances.Count);
        Assert.All(result.Instances, i => Assert.Equal("registry.local/citoid:v2", i.Image));
    }

    [Fact]
    public async Task FirstDeploy_FakeApiServer_WithoutPreviousEveryInstanceRunsTheNewImage()
    {
        var first = Spec("registry.local/citoid:v1", replicas: 3);

        var canary = await _backend.ApplyAsync(first, null, RolloutStage.Canary, 1, Timeout, default);

        Assert.True(canary.Healthy, canary.Reason);
        Assert.Equal(1, Replicas(LastApplied("citoid-canary")));
        Assert.Equal(2, Replicas(LastApplied("citoid")));
        Assert.Equal("registry.local/citoid:v1", Image(LastApplied("citoid")));
        Assert.All(canary.Instances, i => Assert.Equal("registry.local/citoid:v1", i.Image));

        var full = await _backend.ApplyAsync(first, null, RolloutStage.Full, 100, Timeout, default);
        Assert.True(full.Healthy, full.Reason);
        Assert.Equal(["citoid"], _server.DeploymentNames(Ns));
        Assert.Equal(3, full.Instances.Count);
    }

    [Fact]
    public async Task ReapplyingAStage_FakeApiServer_IsIdempotent()
    {
        await _backend.ApplyAsync(V2, V1, RolloutStage.Canary, 1, Timeout, default);
        var first = _server.Requests.Where(r => r.Method == "PATCH").Select(r => (r.Path, r.Body)).ToList();
        var generation = _server.Deployment(Ns, "citoid")!.Metadata.Generation;
        _server.ClearRequests();

        var again = await _backend.ApplyAsync(V2, V1, RolloutStage.Canary, 1, Timeout, default);

        Assert.True(again.Healthy, again.Reason);
        Assert.Equal(first, _server.Requests.Where(r => r.Method == "PATCH").Select(r => (r.Path, r.Body)).ToList());
        Assert.Equal(generation, _server.Deployment(Ns, "citoid")!.Metadata.Generation);
        Assert.Equal(["citoid", "citoid-canary"], _server.DeploymentNames(Ns));
    }

    [Fact]
    public async Task BrokenImage_FakeApiServer_IsUnhealthyWithTheReasonAfterTheTimeout()
    {
        _server.MarkBroken("registry.local/citoid:v2");

        var result = await _backend.ApplyAsync(V2, V1, RolloutStage.Canary, 1, TimeSpan.FromSeconds(1), default);

        Assert.False(result.Healthy);
        Assert.Contains("timed out after 1s", result.Reason);
        Assert.Contains("deployment slipway-staging/citoid-canary: 0/1 ready", result.Reason);
        Assert.DoesNotContain("deployment slipway-staging/citoid:", result.Reason); // the main Deployment was fine
        Assert.Contains("registry.local/citoid:v2: CrashLoopBackOff", result.Reason);
        Assert.Single(result.Instances, i => !i.Ready && i.Image == "registry.local/citoid:v2");
        Assert.Equal(3, result.Instances.Count(i => i.Ready && i.Image == "registry.local/citoid:v1"));
    }

    [Fact]
    public async Task ProgressDeadlineExceeded_FakeApiServer_FailsAtOnceWithTheControllersReason()
    {
        _server.MarkStalled("registry.local/citoid:v2");
        _server.ClearRequests();

        var result = await _backend.ApplyAsync(V2, V1, RolloutStage.Partial, 50, TimeSpan.FromSeconds(30), default);

        Assert.False(result.Healthy);
        // At once: a handful of status reads, where waiting out the 30 s timeout would poll the canary ~1,500 times (every 20 ms).
        var reads = _server.Requests.Count(r => r.Method == "GET" && r.Path.EndsWith("/deployments/citoid-canary"));
        Assert.InRange(reads, 1, 10);
        Assert.Contains("ProgressDeadlineExceeded", result.Reason);
        Assert.Contains("citoid-canary", result.Reason);
        Assert.Contains("has timed out progressing", result.Reason);
    }

    [Fact]
    public async Task LaggingController_FakeApiServer_WaitsUntilObservedGenerationCatchesUp()
    {
        _server.MarkSlow("registry.local/citoid:v2", reads: 3);

        var result = await _backend.ApplyAsync(V2, V1, RolloutStage.Full, 100, Timeout, default);

        Assert.True(result.Healthy, result.Reason);
        // Three reads showed the old generation, the fourth the rolled-out one.
        Assert.Equal(4, _server.Requests.Count(r => r.Method == "GET" && r.Path == DeploymentsPath + "citoid"));
    }

    [Fact]
    public async Task Rollback_FakeApiServer_RestoresThePreviousImageOnEveryReplicaAndDeletesTheCanary()
    {
        await _backend.ApplyAsync(V1, null, RolloutStage.Full, 100, Timeout, default);
        _server.MarkBroken("registry.local/citoid:v2");
        var failed = await _backend.ApplyAsync(V2, V1, RolloutStage.Partial, 50, TimeSpan.FromMilliseconds(300), default);
        Assert.False(failed.Healthy);
        _server.ClearRequests();

        var result = await _backend.RollbackAsync(V2, V1, Timeout, default);

        Assert.True(result.Healthy, result.Reason);
        var requests = _server.Requests;
        Assert.Equal("DELETE", requests[0].Method);
        Assert.Equal(DeploymentsPath + "citoid-canary", requests[0].Path);
        var main = LastApplied("citoid");
        Assert.Equal(4, Replicas(main));
        Assert.Equal("registry.local/citoid:v1", Image(main));
        Assert.StartsWith("application/apply-patch+yaml", Applies(DeploymentsPath + "citoid").Single().ContentType);
        Assert.Equal(["citoid"], _server.DeploymentNames(Ns));
        Assert.Equal(4, result.Instances.Count);
        Assert.All(result.Instances, i => Assert.True(i.Ready && i.Image == "registry.local/citoid:v1"));
    }

    [Fact]
    public async Task RollbackAfterAFailedFullStage_FakeApiServer_PutsThePreviousImageBackEverywhere()
    {
        await _backend.ApplyAsync(V1, null, RolloutStage.Full, 100, Timeout, default);
        await _backend.ApplyAsync(V2, V1, RolloutStage.Canary, 1, Timeout, default);
        _server.MarkStalled("registry.local/citoid:v2"); // fine as a canary, stalls at full scale
        var failed = await _backend.ApplyAsync(V2, V1, RolloutStage.Full, 100, Timeout, default);
        Assert.False(failed.Healthy);
        Assert.Contains("ProgressDeadlineExceeded", failed.Reason);
        Assert.Equal(["citoid", "citoid-canary"], _server.DeploymentNames(Ns)); // the canary stays until full is healthy

        var result = await _backend.RollbackAsync(V2, V1, Timeout, default);

        Assert.True(result.Healthy, result.Reason);
        Assert.Equal(["citoid"], _server.DeploymentNames(Ns));
        Assert.Equal("registry.local/citoid:v1", _server.Deployment(Ns, "citoid")!.Spec.Template.Spec.Containers[0].Image);
        Assert.Equal(4, _server.Deployment(Ns, "citoid")!.Spec.Replicas);
        Assert.All(result.Instances, i => Assert.True(i.Ready && i.Image == "registry.local/citoid:v1"));
    }

    [Fact]
    public async Task RollbackWithoutPrevious_FakeApiServer_DeletesBothDeploymentsAndTheService()
    {
        _server.MarkBroken("registry.local/citoid:v2");
        await _backend.ApplyAsync(V2, null, RolloutStage.Canary, 1, TimeSpan.FromMilliseconds(200), default);
        _server.ClearRequests();

        var result = await _backend.RollbackAsync(V2, null, Timeout, default);

        Assert.True(result.Healthy, result.Reason);
        Assert.Equal(
            [DeploymentsPath + "citoid-canary", DeploymentsPath + "citoid", ServicePath],
            _server.Requests.Where(r => r.Method == "DELETE").Select(r => r.Path));
        Assert.Empty(_server.DeploymentNames(Ns));
        Assert.Null(_server.Service(Ns, "citoid"));
        Assert.Empty(result.Instances);

        // Again: everything is already gone, and that is fine.
        Assert.True((await _backend.RollbackAsync(V2, null, Timeout, default)).Healthy);
    }

    [Fact]
    public async Task Status_FakeApiServer_ListsThePodsOfBothTracksByTheAppLabel()
    {
        await _backend.ApplyAsync(V2, V1, RolloutStage.Partial, 50, Timeout, default);
        _server.ClearRequests();

        var status = await _backend.StatusAsync("staging", "citoid", default);

        var list = Assert.Single(_server.Requests);
        Assert.Equal(("GET", "/api/v1/namespaces/slipway-staging/pods", "app=citoid"), (list.Method, list.Path, list.LabelSelector));
        Assert.Equal(4, status.Count);
        Assert.Equal(2, status.Count(i => i.Name.StartsWith("citoid-canary-", StringComparison.Ordinal) && i.Image.EndsWith(":v2", StringComparison.Ordinal)));
        Assert.Equal(2, status.Count(i => !i.Name.StartsWith("citoid-canary-", StringComparison.Ordinal) && i.Image.EndsWith(":v1", StringComparison.Ordinal)));
        Assert.All(status, i => Assert.True(i.Ready));
        Assert.Empty(await _backend.StatusAsync("production", "citoid", default));
    }

    [Fact]
    public async Task NamespaceMapAndNodePort_FakeApiServer_ComeFromTheOptions()
    {
        _options.Namespaces["staging"] = "citoid-staging";
        _options.NodePorts["staging/citoid"] = 31970;

        var result = await _backend.ApplyAsync(V2, null, RolloutStage.Full, 100, Timeout, default);

        Assert.True(result.Healthy, result.Reason);
        var service = _server.Requests.Single(r => r.Path == "/api/v1/namespaces/citoid-staging/services/citoid").Json;
        Assert.Equal(31970, service.GetProperty("spec").GetProperty("ports")[0].GetProperty("nodePort").GetInt32());
        Assert.Equal(["citoid"], _server.DeploymentNames("citoid-staging"));
        Assert.Empty(_server.DeploymentNames(Ns));
    }

    [Fact]
    public async Task InvalidServiceName_FakeApiServer_IsRejectedBeforeAnyRequest()
    {
        var bad = V2 with { Service = "Citoid_Service" };

        await Assert.ThrowsAsync<ArgumentException>(() => _backend.ApplyAsync(bad, null, RolloutStage.Canary, 1, Timeout, default));
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public void Options_FakeApiServer_DefaultNamespaceTemplateAndValidation()
    {
        Assert.Equal("slipway-production", new KubernetesOptions().NamespaceFor("production"));
        Assert.Empty(new KubernetesOptions { Host = _server.Url }.Validate());
        var errors = new KubernetesOptions { NamespaceTemplate = "Slipway_{environment}", NodePorts = { ["x"] = 80 }, InCluster = true, Host = "http://x" }.Validate().ToList();
        Assert.Contains(errors, e => e.StartsWith("Kubernetes:NamespaceTemplate", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Kubernetes:NodePorts:x", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Kubernetes:InCluster", StringComparison.Ordinal));
    }
}
