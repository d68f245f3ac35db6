using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;

namespace Slipway.GerritGateway;

/// <summary>The webhook token taken out of the request path before anything saw it.</summary>
public sealed record WebhookToken(string Value);

/// <summary>
/// Wraps the HTTP server so the webhook token (the last part of <c>/webhooks/gerrit/{token}</c>, the only secret
/// Gerrit's webhooks plugin can send) is removed from the request before ASP.NET Core creates the request's log
/// scope, its "Request starting" log line and its trace span: all of them see <c>/webhooks/gerrit</c>. The token
/// travels on as a <see cref="WebhookToken"/> feature for <see cref="WebhookEndpoint"/>.
/// </summary>
public sealed class WebhookTokenServer(IServer inner) : IServer
{
    public const string Prefix = "/webhooks/gerrit/";

    public IFeatureCollection Features => inner.Features;

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken) where TContext : notnull =>
        inner.StartAsync(new TokenStrippingApplication<TContext>(application), cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => inner.StopAsync(cancellationToken);

    public void Dispose() => inner.Dispose();

    /// <summary>Puts the wrapper around the registered server (Kestrel) of <paramref name="services"/>.</summary>
    public static void Install(IServiceCollection services)
    {
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(IServer))
            ?? throw new InvalidOperationException("no HTTP server is registered");
        services.Remove(registered);
        services.AddSingleton<IServer>(sp => new WebhookTokenServer(registered switch
        {
            { ImplementationInstance: IServer instance } => instance,
            { ImplementationFactory: { } factory } => (IServer)factory(sp),
            { ImplementationType: { } type } => (IServer)ActivatorUtilities.CreateInstance(sp, type),
            _ => throw new InvalidOperationException("cannot wrap the registered HTTP server"),
        }));
    }

    private sealed class TokenStrippingApplication<TContext>(IHttpApplication<TContext> inner) : IHttpApplication<TContext> where TContext : notnull
    {
        public TContext CreateContext(IFeatureCollection contextFeatures)
        {
            if (contextFeatures.Get<IHttpRequestFeature>() is { } request && request.Path.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            {
                contextFeatures.Set(new WebhookToken(request.Path[Prefix.Length..]));
                request.Path = Prefix.TrimEnd('/');
                request.RawTarget = request.Path + request.QueryString;
            }
            return inner.CreateContext(contextFeatures);
        }

        public Task ProcessRequestAsync(TContext context) => inner.ProcessRequestAsync(context);

        public void DisposeContext(TContext context, Exception? exception) => inner.DisposeContext(context, exception);
    }
}
