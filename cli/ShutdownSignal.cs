using System.Runtime.InteropServices;

namespace Slipway.Cli;

/// <summary>
/// Catches SIGINT and SIGTERM so a long-running command can clean up and exit 0 (the
/// runtime's default for SIGTERM is to exit 143 at once). Create it before announcing
/// readiness, so a signal sent right after the announcement is not lost.
/// </summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PosixSignalRegistration _sigint;
    private readonly PosixSignalRegistration _sigterm;

    public ShutdownSignal()
    {
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
    }

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        _stop.TrySetResult();
    }

    public async Task WaitAsync(CancellationToken ct)
    {
        await using var _ = ct.Register(() => _stop.TrySetResult());
        await _stop.Task;
    }

    public void Dispose()
    {
        _sigint.Dispose();
        _sigterm.Dispose();
    }
}
