using System.Collections.Frozen;
using System.Reflection;

namespace Slipway.Contracts;

/// <summary>The registry of every integration event type in this assembly: type name to record and back.</summary>
public static class EventTypes
{
    private static readonly FrozenDictionary<string, Type> ByName = typeof(EventTypes).Assembly.GetTypes()
        .Select(t => (Type: t, Attr: t.GetCustomAttribute<EventTypeAttribute>()))
        .Where(x => x.Attr is not null)
        .ToFrozenDictionary(x => x.Attr!.Name, x => x.Type);

    private static readonly FrozenDictionary<Type, string> ByType = ByName.ToFrozenDictionary(kv => kv.Value, kv => kv.Key);

    public static IReadOnlyCollection<string> All => ByName.Keys;

    public static string NameOf(Type type) => ByType.TryGetValue(type, out var name)
        ? name
        : type.GetCustomAttribute<EventTypeAttribute>()?.Name
          ?? throw new ArgumentException($"{type.Name} has no [EventType] attribute");

    public static string NameOf<T>() => NameOf(typeof(T));

    public static Type? TypeOf(string name) => ByName.GetValueOrDefault(name);
}
