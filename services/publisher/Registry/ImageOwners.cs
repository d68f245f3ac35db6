using Dapper;
using Npgsql;
using Slipway.Storage;

namespace Slipway.Publisher.Registry;

/// <summary>
/// Keeps every image repository to one project. PipelineLib lets a project publish under its full or short name or a
/// name prefixed by either, so <c>team-a/foo</c> and <c>team-b/foo</c> (or projects <c>foo</c> and <c>foo-bar</c>)
/// could push to the same repository, replacing each other's tags and pruning each other's images with retention,
/// past the other project's approvers. A repository belongs to the project the operator names for it
/// (<see cref="PublisherOptions.ImageOwners"/>), else to the first project that published it (recorded before its
/// first push, so a failed push keeps the claim and a retried publish finds its own).
/// </summary>
public sealed class ImageOwners(NpgsqlDataSource dataSource, SchemaName schema, PublisherOptions options)
{
    private readonly string _s = schema.Value;

    /// <summary>Null when <paramref name="project"/> may publish to <paramref name="repository"/> (claimed now if nobody had it), else why not.</summary>
    public async Task<string?> ClaimAsync(string repository, string project, string runId, CancellationToken ct)
    {
        project = project.Trim('/');
        if (options.ImageOwners.TryGetValue(repository, out var mapped))
            return string.Equals(mapped.Trim('/'), project, StringComparison.Ordinal) ? null
                : Refusal(repository, project, $"the operator gave it to project `{mapped.Trim('/')}` (Publisher:ImageOwners)");

        await using var conn = await dataSource.OpenConnectionAsync(ct);
        // Two statements, each with its own snapshot: a claim committed by a concurrent publish is seen by the SELECT.
        await conn.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO {_s}.image_owners (repository, project, run_id) VALUES (@repository, @project, @runId) ON CONFLICT (repository) DO NOTHING",
            new { repository, project, runId }, cancellationToken: ct));
        var owner = await conn.QuerySingleAsync<string>(new CommandDefinition(
            $"SELECT project FROM {_s}.image_owners WHERE repository = @repository", new { repository }, cancellationToken: ct));
        return owner == project ? null : Refusal(repository, project, $"project `{owner}` published it first");
    }

    private static string Refusal(string repository, string project, string why) =>
        $"image name `{repository}` does not belong to project `{project}`: {why}; a project publishes only to its own image names " +
        "(an operator can give a name to another project with Publisher:ImageOwners:<name>)";
}
