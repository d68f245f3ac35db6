using System.CommandLine;
using System.Diagnostics;
using Slipway.Embedded;

namespace Slipway.Cli.Commands;

/// <summary>`slipway infra up|down|env`: the embedded stack for dev, demo, tests and CI.</summary>
internal static class InfraCommand
{
    public static Command Create()
    {
        var state = new Option<string>("--state")
        {
            Description = "state directory (default: <repo>/.slipway/infra)",
            DefaultValueFactory = _ => RepoPaths.DefaultStateDir(),
        };
        var skipDocker = new Option<bool>("--skip-docker") { Description = "no Docker engine, registry or base image (quick runs)" };
        var skipBaseImage = new Option<bool>("--skip-base-image") { Description = "no Debian base image" };

        var up = new Command("up", "start every part that is not running yet and write infra.env") { state, skipDocker, skipBaseImage };
        up.SetAction(async (parse, ct) =>
        {
            var clock = Stopwatch.StartNew();
            var infra = Create(parse.GetValue(state)!);
            try
            {
                await infra.UpAsync(new InfraUpOptions(parse.GetValue(skipDocker), parse.GetValue(skipBaseImage)), ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Console.Error.WriteLine($"infra up failed: {e.Message}");
                Console.Error.WriteLine($"what did start is recorded; `slipway infra down --state {infra.StateDir}` stops it");
                return 1;
            }
            Console.Out.WriteLine($"infra up in {clock.Elapsed.TotalSeconds:0.0} s");
            return 0;
        });

        var down = new Command("down", "stop what `infra up` started and remove the state directory") { state };
        down.SetAction(async (parse, ct) =>
        {
            await Create(parse.GetValue(state)!).DownAsync(ct);
            return 0;
        });

        var env = new Command("env", "print infra.env (KEY=VALUE lines for the services)") { state };
        env.SetAction(parse =>
        {
            var file = Create(parse.GetValue(state)!).EnvFile;
            if (!File.Exists(file))
            {
                Console.Error.WriteLine($"{file} does not exist: run `slipway infra up` first");
                return 1;
            }
            Console.Out.Write(File.ReadAllText(file));
            return 0;
        });

        var reap = new Command("reap", "(started by slipway) wait until SLIPWAY_PARENT_PID is gone, then `infra down` what it owned") { state };
        reap.Hidden = true;
        reap.SetAction((parse, ct) => Stack.InfraReaper.RunAsync(Create(parse.GetValue(state)!), ct));

        var command = new Argument<string[]>("command") { Description = "the command to run, after --", Arity = ArgumentArity.OneOrMore };
        var run = new Command("run", "start the infrastructure, run a command with its settings (infra.env) in the environment, stop it; "
            + "nothing outlives this command, also when it is killed") { state, skipDocker, skipBaseImage, command };
        run.SetAction(async (parse, ct) =>
        {
            // A deployer the command runs labels its containers with the stack's owner (given to it below): the reaper removes them.
            var deployedOwner = Stack.PipelineSettings.OwnerOf(parse.GetValue(state)!);
            var infra = Stack.InfraFactory.CreateTiedToThisProcess(parse.GetValue(state)!, deployedOwner);
            try
            {
                await infra.UpAsync(new InfraUpOptions(parse.GetValue(skipDocker), parse.GetValue(skipBaseImage)), ct);
                var argv = parse.GetValue(command)!;
                var info = new ProcessStartInfo(argv[0]) { UseShellExecute = false };
                foreach (var a in argv.Skip(1)) info.ArgumentList.Add(a);
                foreach (var (k, v) in Stack.InfraEnvironment.Read(infra.EnvFile)) info.Environment[k] = v;
                foreach (var (k, v) in Slipway.Hosting.Lifetime.ParentProcess.ChildEnvironment()) info.Environment[k] = v;
                info.Environment["Deployer__Docker__Owner"] = deployedOwner;
                info.Environment["Tester__Owner"] = deployedOwner;
                using var child = Process.Start(info) ?? throw new InvalidOperationException($"could not start {argv[0]}");
                try { await child.WaitForExitAsync(ct); }
                catch (OperationCanceledException) { child.Kill(entireProcessTree: true); throw; }
                return child.ExitCode;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Console.Error.WriteLine($"infra run failed: {e.Message}");
                return 1;
            }
            finally
            {
                await Stack.DeployedContainers.RemoveAsync(deployedOwner, CancellationToken.None);
                await infra.DownAsync(CancellationToken.None);
            }
        });

        return new Command("infra", "start and stop the embedded infrastructure (Kafka, Postgres, Docker, registry, base image)")
        {
            up, down, env, run, reap,
        };
    }

    private static EmbeddedInfrastructure Create(string stateDir) => Stack.InfraFactory.Create(stateDir);
}
