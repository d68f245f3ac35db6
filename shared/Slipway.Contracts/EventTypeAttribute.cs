namespace Slipway.Contracts;

/// <summary>Names an integration event record's CloudEvents type, version included (e.g. <c>slipway.run.started.v1</c>).</summary>
/// <remarks>
/// The name is <c>slipway.&lt;area&gt;.&lt;what&gt;.v&lt;N&gt;</c>, lower case with hyphens. A published type's
/// schema changes only compatibly (new optional properties); anything else is a new type with
/// version N+1, emitted next to the old one while consumers move over.
/// </remarks>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class EventTypeAttribute(string name) : Attribute
{
    public string Name { get; } = name;

    /// <summary>
    /// True (the default) when every event of this type belongs to a pipeline run, so its envelope
    /// must carry <c>runid</c>. False for events that exist outside runs (Gerrit events, manual rollbacks).
    /// </summary>
    public bool RunScoped { get; set; } = true;
}
