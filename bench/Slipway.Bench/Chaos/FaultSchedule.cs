namespace Slipway.Bench.Chaos;

/// <summary>One planned fault: what, when (seconds into the trial; for a kill-at-moment kind, when to start watching), how long.</summary>
public sealed record PlannedFault(FaultKind Kind, TimeSpan At, TimeSpan Pause, int Victim);

/// <summary>
/// A trial's faults, drawn from <see cref="Random"/> seeded with the trial's seed only, so the same seed plans the
/// same faults (the moments a service reaches still depend on timing).
/// </summary>
public static class FaultSchedule
{
    public static IReadOnlyList<PlannedFault> Plan(int seed, IReadOnlyList<FaultKind> kinds, int count, TimeSpan window)
    {
        var random = new Random(seed);
        var faults = new List<PlannedFault>();
        for (var i = 0; i < count; i++)
        {
            var kind = kinds[random.Next(kinds.Count)];
            var at = TimeSpan.FromSeconds(random.Next(3, Math.Max(4, (int)window.TotalSeconds)));
            var pause = kind switch
            {
                FaultKind.GerritUnavailable => TimeSpan.FromMinutes(2), // the outage: longer than any retry's first minute
                FaultKind.PostgresRestart => TimeSpan.FromSeconds(random.Next(1, 6)),
                FaultKind.KafkaBrokerDown => TimeSpan.FromSeconds(random.Next(5, 31)),
                FaultKind.RegistryDown => TimeSpan.FromSeconds(random.Next(5, 31)),
                _ => TimeSpan.FromSeconds(random.Next(1, 4)),
            };
            // A kill-at-moment kind starts watching early: the moment itself picks the time.
            if (FaultKinds.MomentOf(kind) is not null) at = TimeSpan.FromSeconds(random.Next(0, 10));
            var victim = random.Next(ChaosStack.Services.Length * ChaosStack.InstancesPerService);
            faults.Add(new PlannedFault(kind, at, pause, victim));
        }
        return faults.OrderBy(f => f.At).ToList();
    }
}
