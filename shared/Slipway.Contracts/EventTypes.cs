using System.Collections.Frozen;
using System.Reflection;

namespace Slipway.Contracts;

/// <summary>The registry of every integration event type in this assembly: type name to record and back.</summary>
public static class EventTypes
{
    private static readonly FrozenDictionary<string, Type> ByName = typeof(EventTypes).Assembly.GetTypes()
        .Select(t => (Type: t, Attr: t.GetCustomAttribute<EventTypeAttribute>()))
        .Where(x => x.Attr is not null)
        .ToFrozenDictionary(x => x.Attr!.Name, x => x.Type, StringComparer.Ordinal);

    private static readonly FrozenDictionary<Type, string> ByType = ByName.ToFrozenDictionary(kv => kv.Value, kv => kv.Key);

    /// <summary>Every registered type name, in ordinal order.</summary>
    public static IReadOnlyCollection<string> All { get; } = ByName.Keys.Order(StringComparer.Ordinal).ToArray();

    public static string NameOf(Type type) => ByType.TryGetValue(type, out var name)
        ? name
        : type.GetCustomAttribute<EventTypeAttribute>()?.Name
          ?? throw new ArgumentException($"{type.Name} has no [EventType] attribute");

    public static string NameOf<T>() => NameOf(typeof(T));

    public static Type? TypeOf(string name) => ByName.GetValueOrDefault(name);

    /// <summary>Whether events of this registered type always belong to a run (their envelope carries <c>runid</c>).</summary>
    public static bool IsRunScoped(string name) =>
        (TypeOf(name) ?? throw new ArgumentException($"unknown event type '{name}'"))
        .GetCustomAttribute<EventTypeAttribute>()!.RunScoped;

    /// <summary>
    /// The topic (before <c>Kafka:TopicPrefix</c>) that carries events of this type:
    /// <c>slipway.gerrit.*</c> on <see cref="Topics.GerritEvents"/>, everything else on <see cref="Topics.PipelineEvents"/>.
    /// </summary>
    public static string TopicOf(string name) =>
        name.StartsWith("slipway.gerrit.", StringComparison.Ordinal) ? Topics.GerritEvents : Topics.PipelineEvents;
}
