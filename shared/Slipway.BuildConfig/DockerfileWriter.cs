using System.Text;

namespace Slipway.BuildConfig;

/// <summary><see cref="BuildPlan"/> → Dockerfile text, in the layout of Blubber v0.23 (blubber-v4 §11).</summary>
public static class DockerfileWriter
{
    public static string Write(BuildPlan plan)
    {
        var sb = new StringBuilder();
        foreach (var stage in plan.Stages)
        {
            sb.Append("FROM ").Append(stage.Base.Length == 0 ? "scratch" : stage.Base).Append(" AS ").Append(stage.Name).Append('\n');
            foreach (var block in stage.Phases)
                foreach (var i in block.Instructions)
                    sb.Append(Render(i, plan.BuildKit, plan.NetworkNoneFlag)).Append('\n');
            sb.Append('\n');
        }
        sb.Append("LABEL ")
            .AppendJoin(' ', plan.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={Compiler.Q(l.Value)}"))
            .Append('\n');
        return sb.ToString();
    }

    public static string Render(Instruction instruction, bool buildKit = false, bool networkNoneFlag = false) => instruction switch
    {
        RunInstruction r when buildKit => "RUN " + (r.NeedsNetwork || !networkNoneFlag ? "" : "--network=none ") + string.Concat(r.Mounts.Select(m => RenderMount(m) + " "))
            + (r.Exec is { } exec ? JsonArray(exec) : RunBody(r.Commands)),
        UserInstruction u => $"USER {u.User}",
        EnvInstruction e => "ENV " + string.Join(' ', e.Variables.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={Compiler.Q(v.Value)}")),
        ArgInstruction a => a.DefaultValue.Length > 0 && a.DefaultValue.All(char.IsAsciiDigit)
            ? $"ARG {a.Name}={a.DefaultValue}"
            : $"ARG {a.Name}={Compiler.Q(a.DefaultValue)}",
        PlatformArgInstruction p => $"ARG {p.Name}",
        RunInstruction r => "RUN " + (r.Exec is { } argv ? JsonArray(argv) : RunBody(r.Commands)),
        CopyInstruction c => "COPY "
            + (c.Chown is null ? "" : $"--chown={c.Chown} ")
            + (c.From is null ? "" : $"--from={c.From} ")
            + JsonArray([.. c.Sources, c.Destination]),
        WorkingDirectoryInstruction w => $"WORKDIR {Compiler.Q(w.Path)}",
        EntrypointInstruction e => "ENTRYPOINT " + JsonArray(e.Arguments),
        _ => throw new ArgumentOutOfRangeException(nameof(instruction), instruction.GetType().Name),
    };

    // Shell text that would not survive as one Dockerfile line (a newline, or a trailing backslash that continues the
    // line) runs as `/bin/sh -c <text>` in exec form, JSON-escaped: the same process Blubber starts.
    // A long step (a builder script's file) is split over lines with continuations, as Dockerfile lines have limits.
    private static string RunBody(IReadOnlyList<string> commands)
    {
        var shell = string.Join(" && ", commands);
        if (shell.Any(c => c < ' ' || c == '\u007f') || shell.TrimEnd().EndsWith('\\')) return JsonArray(["/bin/sh", "-c", shell]);
        return shell.Length > 4000 ? string.Join(" && \\\n    ", commands) : shell;
    }

    // Fields were checked to hold no commas, quotes, "=" or whitespace, so they cannot split the flag.
    private static string RenderMount(RunMount mount) => mount switch
    {
        CacheMount c => $"--mount=type=cache,target={c.Target},id={c.Id},sharing={c.Sharing},uid={c.Uid},gid={c.Gid},mode=0755",
        BindMount b => $"--mount=type=bind,target={b.Target}" + (b.From is null ? "" : $",from={b.From}") + $",source={b.Source}" + (b.ReadWrite ? ",rw" : ""),
        _ => throw new ArgumentOutOfRangeException(nameof(mount), mount.GetType().Name),
    };

    private static string JsonArray(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(Compiler.J)) + "]";
}
