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
public static class DeployerApi
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

        api.MapPost("/services/{service}/rollback", async (string service, string? environment, string? allAtOnce, HttpRequest request,
            ManualRollback rollback, IOptionsMonitor<DeployerOptions> options, IHostApplicationLifetime lifetime) =>
        {
            if (ApiCaller.Identify(request, options.CurrentValue.ApiTokens) is not { } user) return Unauthorized();
            if (environment is null) return Results.BadRequest(new { error = "want /api/services/{service}/rollback?environment=<name>[&allAtOnce=true]" });
            if (allAtOnce is not (null or "true" or "false")) return Results.BadRequest(new { error = "allAtOnce must be true or false" });
            // Changing an environment that needs approval needs an approver: an operator's token is not enough there.
            if (options.CurrentValue.RequiresApproval(environment) && !options.CurrentValue.IsApprover(environment, user))
                return Results.Json(new { error = $"{user} is not an approver: rolling back {environment} needs an approver's token" }, statusCode: 403);
            try
            {
                // Not the request's token: once begun, a rollback (a registry commit, then the rollout in stages) runs to its end
                // also when the client goes away, so no environment is left half rolled back with the registry saying otherwise.
                var done = await rollback.RunAsync(environment, service, user, allAtOnce == "true", lifetime.ApplicationStopping);
                return done is null
                    ? Results.Conflict(new { error = $"{service} in {environment} has no earlier version to roll back to" })
                    : Results.Ok(done);
            }
            catch (Exception e) when (e is ConfigRegistryException or ArgumentException) { return Results.BadRequest(new { error = e.Message }); }
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

    private static IResult Unauthorized() => Results.Json(new { error = "missing or unknown API token (Authorization: Bearer <token>)" }, statusCode: 401);
}
