using System.Runtime.InteropServices;

namespace Slipway.Embedded;

/// <summary>The few libc calls .NET has no managed API for (effective uid, sending a chosen signal).</summary>
public static class Posix
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    [DllImport("libc", SetLastError = true)]
    private static extern uint geteuid();

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int sys_kill(int pid, int signal);

    public static bool IsRoot => geteuid() == 0;

    /// <summary>Sends a signal; false when the process is already gone.</summary>
    public static bool Kill(int pid, int signal) => pid > 0 && sys_kill(pid, signal) == 0;
}
