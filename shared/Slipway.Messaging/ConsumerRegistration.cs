namespace Slipway.Messaging;

/// <summary>One consumer of a service: its name (inbox scope), the logical topics it reads and its handler.</summary>
public sealed record ConsumerRegistration(string Name, IReadOnlyList<string> LogicalTopics, Type HandlerType);
