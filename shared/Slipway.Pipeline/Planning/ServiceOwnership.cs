namespace Slipway.Pipeline.Planning;

/// <summary>
/// Which services (charts) a run may deploy or promote: the services its project owns. A service named in the
/// operator's mapping (<see cref="PlanningOptions.ServiceOwners"/>) belongs to the project mapped; any other service
/// belongs to the project whose last path segment, as a service name, equals it (<c>mediawiki/services/foo</c> owns
/// <c>foo</c>). So a repository cannot aim its config.yaml at another project's service.
/// </summary>
public static class ServiceOwnership
{
    /// <summary>The project that owns <paramref name="service"/> by the mapping, or null when the mapping does not name it.</summary>
    public static string? MappedOwner(string service, IReadOnlyDictionary<string, string>? owners) =>
        owners is null ? null : owners.FirstOrDefault(o => Names.Service(o.Key) == service).Value is { } p ? Trim(p) : null;

    public static bool Owns(string project, string service, IReadOnlyDictionary<string, string>? owners) =>
        MappedOwner(service, owners) is { } owner
            ? string.Equals(owner, Trim(project), StringComparison.Ordinal)
            : Names.Service(Names.ProjectShortName(project)) == service;

    /// <summary>Why <paramref name="project"/> may not touch <paramref name="service"/>, or null when it may.</summary>
    public static string? Refusal(string project, string service, IReadOnlyDictionary<string, string>? owners, string field)
    {
        if (Owns(project, service, owners)) return null;
        var owner = MappedOwner(service, owners) is { } mapped
            ? $"it belongs to project `{mapped}` (operator's service owners)"
            : $"it is not `{Names.Service(Names.ProjectShortName(project))}`, the service named after this project, nor mapped to this project by the operator";
        return $"`{field}` names service `{service}`, which project `{Trim(project)}` does not own: {owner}; a run deploys and promotes only its own project's services";
    }

    private static string Trim(string project) => project.Trim('/');
}
