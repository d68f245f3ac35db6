namespace Slipway.Gerrit.Events;

/// <summary>A line from Gerrit that is not an event Slipway can accept; the message says why.</summary>
public sealed class GerritEventFormatException(string message) : Exception(message);
