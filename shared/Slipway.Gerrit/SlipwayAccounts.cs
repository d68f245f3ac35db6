namespace Slipway.Gerrit;

/// <summary>
/// The Gerrit accounts that are Slipway itself (<see cref="GerritOptions.OwnAccounts"/>): usernames or numeric
/// account ids. Their comments are never read as commands. Reading them needs no secret (names only).
/// </summary>
public sealed record SlipwayAccounts(IReadOnlyList<string> Accounts)
{
    public static SlipwayAccounts From(GerritOptions? options) => new(options?.OwnAccounts() ?? []);
}
