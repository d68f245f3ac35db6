using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Slipway.Hosting;

public static class OptionsServiceCollectionExtensions
{
    /// <summary>Binds a configuration section to <typeparamref name="T"/> and checks it at start-up.</summary>
    public static IServiceCollection AddValidatedOptions<T>(this IServiceCollection services, IConfiguration configuration,
        string section) where T : class, IValidatableOptions =>
        services.AddValidatedOptions<T>(configuration, section, options => options.Validate());

    /// <summary>
    /// The same for options of a library below the host (Postgres, Kafka, jobs), which cannot implement
    /// <see cref="IValidatableOptions"/> without knowing the host: <paramref name="validate"/> lists its errors.
    /// </summary>
    public static IServiceCollection AddValidatedOptions<T>(this IServiceCollection services, IConfiguration configuration,
        string section, Func<T, IEnumerable<string>> validate) where T : class
    {
        // An empty section binds from the root (for options that span sections).
        services.AddOptions<T>().Bind(section.Length == 0 ? configuration : configuration.GetSection(section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>>(new Validation<T>(validate)));
        return services;
    }

    private sealed class Validation<T>(Func<T, IEnumerable<string>> validate) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var errors = validate(options).ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
