using System.Reflection;
using Docker.DotNet;

namespace Slipway.Tests.Integration.Builder;

/// <summary>
/// A Docker client that runs an action just before the first call of one container operation, then passes every call on:
/// makes "something changed on the engine between two calls of the code under test" happen at exactly that point.
/// </summary>
public class EngineHook : DispatchProxy
{
    private object _target = null!;
    private Func<MethodInfo, Task?> _before = null!;

    /// <summary>The client whose <c>Containers.&lt;method&gt;</c> first runs <paramref name="action"/> (once).</summary>
    public static IDockerClient Before(IDockerClient client, string method, Func<Task> action)
    {
        var fired = 0;
        var containers = Wrap(client.Containers, m => m.Name == method && Interlocked.Exchange(ref fired, 1) == 0 ? action() : null);
        return Wrap<IDockerClient>(client, _ => null, (m, _) => m.Name == "get_Containers" ? containers : null);
    }

    private static T Wrap<T>(T target, Func<MethodInfo, Task?> before, Func<MethodInfo, object?[]?, object?>? replace = null) where T : class
    {
        var proxy = Create<T, EngineHook>();
        var hook = (EngineHook)(object)proxy;
        hook._target = target;
        hook._before = before;
        hook._replace = replace;
        return proxy;
    }

    private Func<MethodInfo, object?[]?, object?>? _replace;

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (_replace?.Invoke(method, args) is { } replaced) return replaced;
        _before(method)?.GetAwaiter().GetResult();
        try
        {
            return method.Invoke(_target, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}
