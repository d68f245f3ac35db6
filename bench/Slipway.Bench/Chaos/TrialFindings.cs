namespace Slipway.Bench.Chaos;

/// <summary>What a trial's effect check found: each entry names the run or trigger and the effect.</summary>
public sealed class TrialFindings
{
    public List<string> Lost { get; } = [];
    public List<string> Duplicated { get; } = [];
    public List<string> Stuck { get; } = [];
    /// <summary>An environment left on an image other than the newest merge's (by Gerrit's merge order).</summary>
    public List<string> Misordered { get; } = [];
    public int Runs { get; set; }
    public int FailedRuns { get; set; }
    /// <summary>Deploys (run and environment) the deployer skipped because a run triggered later had deployed: not a fault, it shows overlap.</summary>
    public int SupersededDeploys { get; set; }

    public bool Clean => Lost.Count == 0 && Duplicated.Count == 0 && Stuck.Count == 0 && Misordered.Count == 0;
}
