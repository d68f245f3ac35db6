using Docker.DotNet.Models;

namespace Slipway.Tester.Smoke;

/// <summary>The service container stopped before it became ready; the message says how.</summary>
public sealed class ServiceExitedException(string message) : Exception(message)
{
    public static string Describe(ContainerState state) =>
        $"service exited with code {state.ExitCode}{(state.OOMKilled ? " (out of memory)" : "")} before it became ready";
}
