namespace Slipway.Tester.Smoke;

/// <summary>A smoke request that was not sent: its target is not a relative path on the service under test.</summary>
public sealed class RefusedRequestException(string message) : Exception(message);
