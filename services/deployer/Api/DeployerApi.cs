using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Slipway.Contracts;
using Slipway.Deployer.Approvals;
using Slipway.Deployer.Backends;
using Slipway.Deployer.Config;
using Slipway.Deployer.Rollout;

namespace Slipway.Deployer.Api;

/// <summary>
/// The deployer's HTTP API, for <c>slipway approve</c> and <c>slipway rollback</c>: bearer-token
/// authenticated, and every action ends up as an event like its Gerrit-comment equivalent.
/// </summary>
public static partial class DeployerApi
{
    public static void MapDeployerApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");

        api.MapPost("/runs/{runId}/approve", async (string runId, string? environment, HttpRequest request, NpgsqlDataSource db,
            ApprovalDesk desk, IOptionsMonitor<DeployerOptions> options, CancellationToken ct) =>
        {
            if (ApiCaller.Identify(request, options.CurrentValue.ApiTokens) is not { } user) return Unauthorized();
            if (runId.Length > 200 || environment is not { Length: > 0 and <= 128 }) return Results.BadRequest(new { error = "want /api/runs/{runId}/approve?environment=<name>" });
            await using var conn = await db.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            var decision = await desk.DecideAsync(tx, runId, environment, new Account { Username = user }, ApprovalChannel.Cli, null, ct);
            await tx.CommitAsync(ct);
            return decision switch
            {
                ApprovalDesk.Decision.Granted => Results.Ok(new { runId, environment, approvedBy = user }),
                ApprovalDesk.Decision.Refused => Results.Json(new { error = $"{user} is not allowed to approve {environment}" }, statusCode: 403),
                _ => Results.NotFound(new { error = $"run {runId} is not waiting for an approval of {environment}" }),
            };
        });

        // A rollback is a job (ManualRollbackJob): it runs to its end also when the client goes away or the deployer restarts
        // half way. The client's Idempotency-Key names the request: asking again with it (after a timeout, a lost answer)
        // waits for or returns that request's answer instead of walking back one more version.
        api.MapPost("/services/{service}/rollback", async (string service, string? environment, string? allAtOnce, HttpRequest request,
            ManualRollbackRequests requests, IOptionsMonitor<DeployerOptions> options, CancellationToken ct) =>
        {
            if (ApiCaller.Identify(request, options.CurrentValue.ApiTokens) is not { } user) return Unauthorized();
            if (environment is null) return Results.BadRequest(new { error = "want /api/services/{service}/rollback?environment=<name>[&allAtOnce=true]" });
            if (allAtOnce is not (null or "true" or "false")) return Results.BadRequest(new { error = "allAtOnce must be true or false" });
            try
            {
                ConfigRegistry.ValidateName("environment", environment);
                ConfigRegistry.ValidateName("service", service);
            }
            catch (ArgumentException e) { return Results.BadRequest(new { error = e.Message }); }
            // Changing an environment that needs approval needs an approver: an operator's token is not enough there.
            if (options.CurrentValue.RequiresApproval(environment) && !options.CurrentValue.IsApprover(environment, user))
                return Results.Json(new { error = $"{user} is not an approver: rolling back {environment} needs an approver's token" }, statusCode: 403);
            var key = request.Headers["Idempotency-Key"].ToString();
            if (key.Length > 0 && !RollbackKey().IsMatch(key))
                return Results.BadRequest(new { error = "Idempotency-Key must be 1-100 letters, digits, '.', '_', ':' or '-'" });
            // Keys are per caller: one user's key never reaches another's request.
            var id = key.Length > 0 ? $"{user}:{key}" : $"{user}:{Guid.NewGuid():N}";
            var asked = new ManualRollbackRequests.Request(id, environment, service, user, allAtOnce == "true", null, null);
            var recorded = await requests.RecordAsync(asked, ct);
            if (!recorded.Same(asked))
                return Results.UnprocessableEntity(new { error = $"Idempotency-Key {key} was used for another request (rolling back {recorded.Service} in {recorded.Environment})" });
            return await AnswerAsync(requests, id, TimeSpan.FromSeconds(options.CurrentValue.RollbackWaitSeconds), ct);
        });

        api.MapGet("/rollbacks/{id}", async (string id, HttpRequest request, ManualRollbackRequests requests, IOptionsMonitor<DeployerOptions> options,
            CancellationToken ct) =>
        {
            if (ApiCaller.Identify(request, options.CurrentValue.ApiTokens) is not { } user) return Unauthorized();
            // Only the caller's own requests.
            if (id.Length > 300 || await requests.FindAsync(id, ct) is not { } found || found.RequestedBy != user)
                return Results.NotFound(new { error = $"no rollback request {id} of yours" });
            return await AnswerAsync(requests, id, TimeSpan.Zero, ct);
        });

        api.MapGet("/services/{service}", async (string service, string? environment, HttpRequest request, IDeploymentBackend backend,
            ConfigRegistry config, IOptionsMonitor<DeployerOptions> options, CancellationToken ct) =>
        {
            if (ApiCaller.Identify(request, options.CurrentValue.ApiTokens) is null) return Unauthorized();
            if (environment is null) return Results.BadRequest(new { error = "want ?environment=<name>" });
            try
            {
                var values = await config.GetAsync(environment, service, ct);
                var instances = await backend.StatusAsync(environment, service, ct);
                var history = await config.HistoryAsync(environment, service, 10, ct);
                return Results.Ok(new { environment, service, values, instances, history });
            }
            catch (Exception e) when (e is ConfigRegistryException or ArgumentException) { return Results.BadRequest(new { error = e.Message }); }
        });
    }

    /// <summary>The request's answer once it has one, polled for at most <paramref name="wait"/>; else 202 with where to ask again.</summary>
    private static async Task<IResult> AnswerAsync(ManualRollbackRequests requests, string id, TimeSpan wait, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + wait;
        while (true)
        {
            var request = await requests.FindAsync(id, ct);
            if (request?.Status is { } status) return Results.Text(request.Answer, "application/json", statusCode: status);
            if (DateTimeOffset.UtcNow >= deadline)
                return Results.Json(new { id, state = "running", poll = $"/api/rollbacks/{Uri.EscapeDataString(id)}" }, statusCode: 202);
            await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9._:-]{1,100}\z")]
    private static partial Regex RollbackKey();

    private static IResult Unauthorized() => Results.Json(new { error = "missing or unknown API token (Authorization: Bearer <token>)" }, statusCode: 401);
}
