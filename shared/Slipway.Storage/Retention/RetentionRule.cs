namespace Slipway.Storage.Retention;

/// <summary>
/// Rows of <paramref name="Table"/> (schema-qualified) that may go once they are older than the window:
/// <paramref name="Condition"/> is a SQL predicate over the table's columns using <c>@cutoff</c>
/// (e.g. <c>finished_at &lt; @cutoff</c>). Rules are written by the libraries and services that own the tables.
/// </summary>
public sealed record RetentionRule(string Name, string Table, string Condition);
