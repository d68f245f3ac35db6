namespace Slipway.Builder.Building;

/// <summary>The build context cannot be sent (too large, unreadable).</summary>
public sealed class BuildContextException(string message) : Exception(message);
