using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Slipway.Hosting.Lifetime;
using Slipway.Messaging;
using Slipway.Storage;

namespace Slipway.Hosting;

/// <summary>
/// Runs a Slipway service process: configuration (appsettings + environment, <c>__</c> for
/// <c>:</c>), Postgres schema and migrations, the Kafka messaging host, health and info
/// endpoints, telemetry. Bad configuration stops it before anything starts, with one line per
/// problem naming the key, and exit code 2.
/// </summary>
public static class SlipwayService
{
    public const int ConfigurationErrorExitCode = 2;
    public const int StartupErrorExitCode = 3;

    public static async Task<int> RunAsync(string[] args, SlipwayServiceDefinition definition,
        Action<WebApplicationBuilder> configure, Action<WebApplication>? map = null)
    {
        WebApplication app;
        try
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions
            {
                Args = args,
                ContentRootPath = AppContext.BaseDirectory,
            });
            builder.Host.ConfigureHostOptions(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
            builder.Logging.ClearProviders();
            if (builder.Configuration.GetValue<bool>("Logging:Json"))
                builder.Logging.AddJsonConsole(o => o.IncludeScopes = true);
            else
                builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });

            // Postgres:Schema overrides the service's schema (several deployments sharing one database).
            if (builder.Configuration["Postgres:Schema"] is { Length: > 0 } schemaOverride)
            {
                if (!SchemaName.IsValid(schemaOverride))
                    throw new ArgumentException($"Postgres:Schema '{schemaOverride}' is invalid (lower-case letters, digits and '_', at most 63)");
                definition = definition with { Schema = schemaOverride };
            }
            builder.Services.AddSingleton(definition);
            builder.Services.AddSlipwayStorage(builder.Configuration, new SchemaName(definition.Schema));
            builder.Services.AddSlipwayMessaging(builder.Configuration);
            // One consumer group per service unless configured otherwise.
            builder.Services.PostConfigure<KafkaOptions>(o => o.ConsumerGroup ??= definition.Name);
            // The service's own tables: Migrations/*.sql embedded in its assembly.
            if (Assembly.GetEntryAssembly() is { } entry) builder.Services.AddMigrationsFrom(entry);
            builder.Services.AddSlipwayTelemetry(builder.Configuration, definition);
            builder.Services.AddSlipwayHealth();
            // Started by a test host or `./slipway`: end with it, also when it is killed (SLIPWAY_PARENT_PID).
            if (ParentProcess.FromEnvironment() is { } parent)
            {
                builder.Services.AddSingleton(parent);
                builder.Services.AddHostedService<ParentExitWatch>();
            }
            configure(builder);
            app = builder.Build();
            app.MapSlipwayEndpoints();
            map?.Invoke(app);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"{definition.Name}: configuration error: {e.Message}");
            return ConfigurationErrorExitCode;
        }

        // Disposing the app disposes its singletons (IAsyncDisposable ones included), so what they
        // hold (networks, firewall rules, temp files, producers) is released on a clean stop.
        await using var running = app;
        try
        {
            await app.StartAsync();
        }
        catch (OptionsValidationException e)
        {
            foreach (var failure in e.Failures.Distinct())
                Console.Error.WriteLine($"{definition.Name}: configuration error: {failure}");
            return ConfigurationErrorExitCode;
        }
        catch (OperationCanceledException)
        {
            // Stopped (SIGTERM/Ctrl-C) before it finished starting: nothing to report.
            return 0;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"{definition.Name}: cannot start: {e.Message}");
            return StartupErrorExitCode;
        }
        await app.WaitForShutdownAsync();
        return 0;
    }

    internal static string Version =>
        typeof(SlipwayService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
}
