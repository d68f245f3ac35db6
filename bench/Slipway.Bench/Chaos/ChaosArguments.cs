namespace Slipway.Bench.Chaos;

/// <summary>
/// `Slipway.Bench chaos TRIALS SEED CHANGES FAULTS-PER-TRIAL KINDS [concurrent|sequential]` as `./slipway chaos` passes them, with the
/// infrastructure in the environment (Kafka__*, Postgres__*, Registry__*, Docker__*, Slipway__BaseImage) and the
/// embedded Postgres cluster's directory in Chaos__PostgresDir (for the restart fault) and the Kafka host's directory in
/// Chaos__KafkaDir (for the broker outage).
/// </summary>
public static class ChaosArguments
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length is not (5 or 6)) throw new ArgumentException("usage: chaos TRIALS SEED CHANGES FAULTS-PER-TRIAL KINDS [concurrent|sequential]");
        var concurrent = args.Length == 6 && args[5] switch
        {
            "concurrent" => true,
            "sequential" => false,
            _ => throw new ArgumentException($"the sixth argument must be concurrent or sequential, not '{args[5]}'"),
        };
        var trials = Bounded(args[0], "trials", 1, 1000);
        var seed = int.Parse(args[1]);
        var changes = Bounded(args[2], "changes", 1, 20);
        var faults = Bounded(args[3], "faults per trial", 0, 50);
        var kinds = args[4].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(FaultKinds.Parse).Distinct().ToList();
        // restart-all is the end of every trial's stream, not drawn at random.
        var drawn = kinds.Where(k => k != FaultKind.RestartAll).ToList();
        if (drawn.Count == 0) faults = 0;
        if (drawn.Count == 0) drawn.Add(FaultKind.KillRandom);
        var infra = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Where(e => ((string)e.Key).Contains("__")).ToDictionary(e => (string)e.Key, e => (string)e.Value!);
        var postgresDir = Environment.GetEnvironmentVariable("Chaos__PostgresDir") ?? throw new InvalidOperationException("Chaos__PostgresDir not set");
        var kafkaDir = Environment.GetEnvironmentVariable("Chaos__KafkaDir") ?? throw new InvalidOperationException("Chaos__KafkaDir not set");
        return await ChaosCampaign.RunAsync(infra, postgresDir, kafkaDir, trials, seed, changes, drawn, faults, kinds.Contains(FaultKind.RestartAll), concurrent);
    }

    private static int Bounded(string value, string what, int min, int max) =>
        int.TryParse(value, out var n) && n >= min && n <= max ? n : throw new ArgumentException($"{what} must be {min}..{max}, not '{value}'");
}
