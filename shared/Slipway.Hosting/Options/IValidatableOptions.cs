namespace Slipway.Hosting;

/// <summary>
/// An options class that checks itself. Each error is one line naming the configuration key,
/// so a service with bad configuration stops at start-up saying exactly what to fix.
/// </summary>
public interface IValidatableOptions
{
    IEnumerable<string> Validate();
}
