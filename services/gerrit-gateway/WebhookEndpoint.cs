using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Slipway.Contracts;
using Slipway.Gerrit.Events;

namespace Slipway.GerritGateway;

/// <summary>
/// <c>POST /webhooks/gerrit/{token}</c>: events pushed by Gerrit's webhooks plugin (gerrit.md §5).
/// The plugin cannot sign, so the secret is in the URL (compared in constant time), and a <c>comment-added</c> is
/// published only after <see cref="WebhookCommentConfirmer"/> found it in Gerrit (422 when not, 503 when Gerrit
/// could not be asked). The answer is
/// 204 only once the event is committed (a duplicate is committed already): the plugin retries
/// anything else, so a database failure answers 503. <see cref="WebhookTokenServer"/> has already taken the token
/// out of the path, so no log line, log scope or trace span carries it.
/// </summary>
public static class WebhookEndpoint
{
    public const string Server = "webhook";

    public static void Map(WebApplication app) =>
        app.MapPost("/webhooks/gerrit", HandleAsync);

    private static async Task<IResult> HandleAsync(HttpContext ctx, IOptions<GatewayOptions> options,
        GerritEventWriter writer, WebhookCommentConfirmer confirmer, ILogger<GerritEventWriter> logger)
    {
        var o = options.Value;
        if (string.IsNullOrEmpty(o.WebhookToken)) return Results.NotFound();
        var token = ctx.Features.Get<WebhookToken>()?.Value ?? "";
        if (!TokenMatches(token, o.WebhookToken))
        {
            GatewayTelemetry.WebhookRequests.Add(1, new KeyValuePair<string, object?>("outcome", "unauthorized"));
            logger.LogWarning("webhook with a wrong token refused (from {Remote})", ctx.Connection.RemoteIpAddress);
            return Results.Text("wrong webhook token\n", statusCode: StatusCodes.Status401Unauthorized);
        }
        if (ctx.Request.ContentLength > o.WebhookMaxBytes)
            return Results.Text($"body larger than {o.WebhookMaxBytes} bytes\n", statusCode: StatusCodes.Status413PayloadTooLarge);
        if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = o.WebhookMaxBytes;

        string body;
        try
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int n;
            while ((n = await ctx.Request.Body.ReadAsync(chunk, ctx.RequestAborted)) > 0)
            {
                buffer.Write(chunk, 0, n);
                if (buffer.Length > o.WebhookMaxBytes)
                    return Results.Text($"body larger than {o.WebhookMaxBytes} bytes\n", statusCode: StatusCodes.Status413PayloadTooLarge);
            }
            body = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (BadHttpRequestException e) { return Results.Text(e.Message + "\n", statusCode: e.StatusCode); }
        catch (DecoderFallbackException) { return BadRequest("body is not UTF-8"); }

        GerritEvent parsed;
        try { parsed = GerritEventParser.Parse(body.Trim(), GerritEventSource.Webhook, DateTimeOffset.UtcNow); }
        catch (GerritEventFormatException e)
        {
            GatewayTelemetry.Malformed.Add(1);
            return BadRequest(e.Message);
        }

        // A comment can approve a rollout: one that arrives by webhook is published only once Gerrit confirms it.
        if (parsed.Type == "comment-added")
        {
            switch (await confirmer.ConfirmAsync(parsed, ctx.RequestAborted))
            {
                case WebhookCommentConfirmer.Outcome.Confirmed confirmed:
                    parsed = confirmed.Event;
                    break;
                case WebhookCommentConfirmer.Outcome.Refused refused:
                    GatewayTelemetry.WebhookRequests.Add(1, new KeyValuePair<string, object?>("outcome", "unconfirmed"));
                    logger.LogWarning("webhook comment-added on {Subject} not published: {Why}", PartitionKeys.For(parsed), refused.Why);
                    return Results.Text($"comment not confirmed by Gerrit, not published: {refused.Why}\n", statusCode: StatusCodes.Status422UnprocessableEntity);
                case WebhookCommentConfirmer.Outcome.Unavailable unavailable:
                    GatewayTelemetry.WebhookRequests.Add(1, new KeyValuePair<string, object?>("outcome", "unavailable"));
                    logger.LogWarning("webhook comment-added on {Subject} not confirmed yet: {Why}", PartitionKeys.For(parsed), unavailable.Why);
                    return Results.Text("cannot confirm the comment with Gerrit now, retry later\n", statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        }

        try
        {
            var fresh = await writer.WriteAsync(parsed, Server, ctx.RequestAborted);
            GatewayTelemetry.WebhookRequests.Add(1, new KeyValuePair<string, object?>("outcome", fresh ? "published" : "duplicate"));
            logger.LogInformation("{Type} {Subject} from webhook {Outcome}", parsed.Type, PartitionKeys.For(parsed), fresh ? "published" : "duplicate dropped");
            return Results.NoContent();
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested) { return Results.StatusCode(499); }
        catch (Exception e)
        {
            GatewayTelemetry.WebhookRequests.Add(1, new KeyValuePair<string, object?>("outcome", "unavailable"));
            logger.LogWarning("webhook event {Type} not written: {Error}", parsed.Type, e.Message);
            return Results.Text("event not stored, retry later\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        static IResult BadRequest(string why)
        {
            GatewayTelemetry.WebhookRequests.Add(1, new KeyValuePair<string, object?>("outcome", "malformed"));
            return Results.Text($"malformed Gerrit event: {why}\n", statusCode: StatusCodes.Status400BadRequest);
        }
    }

    /// <summary>Constant time whatever the lengths: both sides hashed to 32 bytes first.</summary>
    private static bool TokenMatches(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
