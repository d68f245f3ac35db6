using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>
/// A person or bot: a Gerrit account as Gerrit reports it, or the local user of the <c>slipway</c>
/// CLI. Every field is optional (Gerrit omits what it does not know; bots often have no email).
/// </summary>
[Description("A Gerrit account, or the user of the slipway CLI. Every field is optional.")]
public sealed record Account
{
    /// <summary>Full name.</summary>
    [Description("Full name.")]
    [MaxLength(256)] public string? Name { get; init; }

    /// <summary>Email address.</summary>
    [Description("Email address.")]
    [MaxLength(256)] public string? Email { get; init; }

    /// <summary>Login name (Gerrit username, or the OS user for the CLI).</summary>
    [Description("Login name (Gerrit username, or the OS user for the CLI).")]
    [MaxLength(256)] public string? Username { get; init; }

    /// <summary>Gerrit's numeric account id, when Slipway read it from Gerrit's REST API (stream events do not carry it).</summary>
    [Description("Gerrit's numeric account id (_account_id), when Slipway read it from Gerrit's REST API; stream events do not carry it.")]
    [Range(1, long.MaxValue)] public long? AccountId { get; init; }
}
