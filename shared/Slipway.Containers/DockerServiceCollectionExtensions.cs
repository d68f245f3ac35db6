using Docker.DotNet;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Slipway.Hosting;

namespace Slipway.Containers;

public static class DockerServiceCollectionExtensions
{
    /// <summary>The <c>Docker</c> options, checked at start-up, and one engine client for the process.</summary>
    public static IServiceCollection AddDockerEngine(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<DockerOptions>(configuration, DockerOptions.Section);
        services.AddSingleton<IDockerClient>(sp => TracedDockerClient.Wrap(
            new DockerClientConfiguration(new Uri(sp.GetRequiredService<IOptions<DockerOptions>>().Value.Endpoint)).CreateClient()));
        return services;
    }
}
