namespace Slipway.Contracts;

/// <summary>Names an integration event record's CloudEvents type, version included (e.g. <c>slipway.run.started.v1</c>).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class EventTypeAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
