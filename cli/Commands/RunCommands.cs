using System.CommandLine;
using System.Text.Json;
using Slipway.Cli.Stack;

namespace Slipway.Cli.Commands;

/// <summary>
/// `slipway runs`, `slipway run RUN` and `slipway logs RUN STEP`: the reporter's run API (docs/api.md) on the
/// terminal. The reporter's URL comes from the running stack's stack.json, or from --reporter.
/// </summary>
internal static class RunCommands
{
    public static Command Runs()
    {
        var project = new Option<string?>("--project") { Description = "only runs of this project" };
        var change = new Option<int?>("--change") { Description = "only runs of this change" };
        var branch = new Option<string?>("--branch") { Description = "only runs for this branch" };
        var stateFilter = new Option<string?>("--status") { Description = "running, succeeded, failed or cancelled" };
        var limit = new Option<int>("--limit") { Description = "how many runs (newest first)", DefaultValueFactory = _ => 20 };
        var (state, reporter, json) = CommonOptions();
        var command = new Command("runs", "list runs, newest first, with how far each got") { project, change, branch, stateFilter, limit, state, reporter, json };
        command.SetAction(async (parse, ct) =>
        {
            var query = new List<string> { $"limit={parse.GetValue(limit)}" };
            if (parse.GetValue(project) is { } p) query.Add($"project={Uri.EscapeDataString(p)}");
            if (parse.GetValue(change) is { } c) query.Add($"change={c}");
            if (parse.GetValue(branch) is { } b) query.Add($"branch={Uri.EscapeDataString(b)}");
            if (parse.GetValue(stateFilter) is { } s) query.Add($"state={Uri.EscapeDataString(s)}");
            return await GetAsync(parse.GetValue(state)!, parse.GetValue(reporter), "/api/runs?" + string.Join('&', query), parse.GetValue(json), body =>
            {
                var runs = body.RootElement.GetProperty("runs").EnumerateArray().ToList();
                if (runs.Count == 0) Console.WriteLine("no runs");
                foreach (var r in runs)
                {
                    var what = r.GetProperty("change").ValueKind == JsonValueKind.Number
                        ? $"change {r.GetProperty("change").GetInt32()},{r.GetProperty("patchset").GetInt32()}"
                        : r.GetProperty("branch").GetString() ?? "";
                    var current = r.GetProperty("currentStep").GetString() is { } step ? $" at {step}" : "";
                    Console.WriteLine($"{r.GetProperty("runId").GetString(),-36}  {r.GetProperty("state").GetString(),-9}  " +
                        $"step {r.GetProperty("stepsStarted").GetInt32()} of {r.GetProperty("stepsTotal").GetInt32()}{current}  " +
                        $"{r.GetProperty("project").GetString()} {what} ({r.GetProperty("trigger").GetString()}, {r.GetProperty("pipeline").GetString()})  " +
                        $"{r.GetProperty("startedAt").GetDateTimeOffset():u}");
                }
            }, ct);
        });
        return command;
    }

    public static Command Run()
    {
        var run = new Argument<string>("run") { Description = "the run id" };
        var (state, reporter, json) = CommonOptions();
        var command = new Command("run", "show one run: its trigger, each step's state and duration, the image") { run, state, reporter, json };
        command.SetAction(async (parse, ct) =>
            await GetAsync(parse.GetValue(state)!, parse.GetValue(reporter), $"/api/runs/{Uri.EscapeDataString(parse.GetValue(run)!)}",
                parse.GetValue(json), body =>
                {
                    var r = body.RootElement;
                    Console.WriteLine($"run {r.GetProperty("runId").GetString()}: {r.GetProperty("project").GetString()} " +
                        $"{r.GetProperty("triggerKind").GetString()} at {r.GetProperty("revision").GetString()}, pipeline {r.GetProperty("pipeline").GetString()}: " +
                        $"{r.GetProperty("outcome").GetString() ?? "running"}");
                    if (r.GetProperty("reason").GetString() is { } reason) Console.WriteLine($"  reason: {reason}");
                    if (r.GetProperty("imageUri").GetString() is { } image) Console.WriteLine($"  image: {image}");
                    foreach (var s in r.GetProperty("steps").EnumerateArray())
                    {
                        var ms = s.GetProperty("durationMs").ValueKind == JsonValueKind.Number ? $"{s.GetProperty("durationMs").GetInt64() / 1000.0:F1} s" : "";
                        Console.WriteLine($"  {s.GetProperty("stage").GetString()}/{s.GetProperty("step").GetString(),-24} {s.GetProperty("state").GetString(),-9} " +
                            $"attempt {s.GetProperty("attempt").GetInt32()} {ms}");
                    }
                }, ct));
        return command;
    }

    public static Command Logs()
    {
        var run = new Argument<string>("run") { Description = "the run id" };
        var step = new Argument<string>("step") { Description = "the step, as stage/step (or just step when unique)" };
        var (state, reporter, _) = CommonOptions();
        var command = new Command("logs", "print a step's output as the reporter keeps it (the step's last lines)") { run, step, state, reporter };
        command.SetAction(async (parse, ct) =>
        {
            var wanted = parse.GetValue(step)!;
            var found = 1;
            var code = await GetAsync(parse.GetValue(state)!, parse.GetValue(reporter), $"/api/runs/{Uri.EscapeDataString(parse.GetValue(run)!)}", false, body =>
            {
                var steps = body.RootElement.GetProperty("steps").EnumerateArray()
                    .Where(s => $"{s.GetProperty("stage").GetString()}/{s.GetProperty("step").GetString()}" == wanted || s.GetProperty("step").GetString() == wanted)
                    .ToList();
                if (steps.Count != 1)
                {
                    Console.Error.WriteLine(steps.Count == 0 ? $"no step {wanted} in this run (yet)" : $"{wanted} names several steps: use stage/step");
                    return;
                }
                found = 0;
                var s = steps[0];
                Console.WriteLine(s.GetProperty("outputTail").GetString() ?? s.GetProperty("reason").GetString() ?? "(no output recorded)");
            }, ct);
            return code != 0 ? code : found;
        });
        return command;
    }

    private static (Option<string> State, Option<string?> Reporter, Option<bool> Json) CommonOptions() => (
        new Option<string>("--state") { Description = "state directory of the running stack", DefaultValueFactory = _ => RepoPaths.DefaultStateDir() },
        new Option<string?>("--reporter") { Description = "reporter URL (default: the running stack's)" },
        new Option<bool>("--json") { Description = "print the API's JSON as it is" });

    private static async Task<int> GetAsync(string stateDir, string? reporterUrl, string path, bool raw, Action<JsonDocument> print, CancellationToken ct)
    {
        var url = reporterUrl ?? PipelineSettings.Load(stateDir)?.ReporterUrl;
        if (url is null)
        {
            Console.Error.WriteLine($"no running stack in {stateDir} (start one with `slipway up`), or pass --reporter");
            return 2;
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            using var response = await http.GetAsync(url.TrimEnd('/') + path, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"the reporter answered {(int)response.StatusCode}: {body}");
                return 1;
            }
            if (raw)
            {
                Console.WriteLine(body);
                return 0;
            }
            using var doc = JsonDocument.Parse(body);
            print(doc);
            return 0;
        }
        catch (HttpRequestException e)
        {
            Console.Error.WriteLine($"the reporter at {url} did not answer: {e.Message}");
            return 1;
        }
        catch (JsonException e)
        {
            Console.Error.WriteLine($"the reporter at {url} answered something that is not the run API's JSON: {e.Message}");
            return 1;
        }
    }
}
