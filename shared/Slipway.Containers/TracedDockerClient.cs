using System.Diagnostics;
using System.Reflection;
using Docker.DotNet;

namespace Slipway.Containers;

/// <summary>
/// Docker engine calls as spans ("docker Containers.StartContainerAsync", client kind) under the work that makes them,
/// so a run's trace shows its builds, test containers and deploys. Docker.DotNet's own HTTP handler is not instrumented,
/// so the client is wrapped: every operation group (<c>Containers</c>, <c>Images</c>, ...) is a proxy whose task-returning
/// methods run inside a span that ends when the task does. Everything else passes through unchanged.
/// </summary>
public static class TracedDockerClient
{
    public const string Name = "Slipway.Docker";
    public static readonly ActivitySource Source = new(Name);

    public static IDockerClient Wrap(IDockerClient client) => Proxy<IDockerClient>.Create(client, "");

    /// <summary>Forwards every call to the wrapped object; operation groups are wrapped too, tasks get a span.</summary>
    public class Proxy<T> : DispatchProxy where T : class
    {
        private object _target = null!;
        private string _group = "";

#pragma warning disable CA1000 // the proxy's factory belongs to its type, as DispatchProxy.Create does
        public static T Create(T target, string group)
        {
            var proxy = Create<T, Proxy<T>>();
            var self = (Proxy<T>)(object)proxy;
            self._target = target;
            self._group = group;
            return proxy;
        }
#pragma warning restore CA1000

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(method);
            // An operation group (client.Containers, client.Images, ...): its calls become spans.
            if (_group.Length == 0 && method.Name.StartsWith("get_", StringComparison.Ordinal) && method.ReturnType.IsInterface
                && method.ReturnType.Namespace == typeof(IDockerClient).Namespace && method.ReturnType != typeof(IDisposable))
            {
                var inner = method.Invoke(_target, args);
                return inner is null ? null : typeof(Proxy<>).MakeGenericType(method.ReturnType).GetMethod(nameof(Create))!
                    .Invoke(null, [inner, method.Name[4..]]);
            }
            if (_group.Length == 0 || !typeof(Task).IsAssignableFrom(method.ReturnType)) return Call(method, args);

            var previous = Activity.Current;
            var span = Source.StartActivity($"docker {_group}.{method.Name}", ActivityKind.Client);
            object? result;
            try
            {
                result = Call(method, args);
            }
            catch (Exception e)
            {
                span?.SetStatus(ActivityStatusCode.Error, e.Message);
                span?.Dispose();
                throw;
            }
            finally
            {
                // The call has captured its context; the caller goes on under its own span.
                Activity.Current = previous;
            }
            if (span is not null && result is Task task)
                task.ContinueWith(t =>
                {
                    if (t.IsFaulted) span.SetStatus(ActivityStatusCode.Error, t.Exception?.InnerException?.Message);
                    span.Dispose();
                }, TaskScheduler.Default);
            return result;
        }

        private object? Call(MethodInfo method, object?[]? args)
        {
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
}
