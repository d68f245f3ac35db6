using Microsoft.Extensions.Configuration;

namespace Slipway.Hosting.Options;

/// <summary>
/// The Gerrit accounts that are Slipway itself (<see cref="GerritOptions.OwnAccounts"/>): usernames or numeric
/// account ids. Their comments are never read as commands. Reading them needs no secret (names only).
/// </summary>
public sealed record SlipwayAccounts(IReadOnlyList<string> Accounts)
{
    public static SlipwayAccounts From(IConfiguration config) =>
        new(config.GetSection(GerritOptions.Section).Get<GerritOptions>()?.OwnAccounts() ?? []);
}
