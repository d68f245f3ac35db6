namespace Slipway.Contracts;

/// <summary>Which approvals a step waits for: a deploy to an environment that needs one, or a promote into such environments.</summary>
public static class PlanStepApprovals
{
    public static IReadOnlyList<string> EnvironmentsNeedingApproval(this PlanStep step) => step switch
    {
        { Deploy: { RequiresApproval: true } d } => [d.Environment],
        { Promote.RequiresApprovalFor: { Count: > 0 } envs } => envs,
        _ => [],
    };
}
