using Slipway.BuildConfig;

namespace Slipway.Builder.Building.Egress;

/// <summary>
/// Whether a variant's build has steps that install anything: apt packages, sources or proxies, or any builder
/// (node, php, python, or a custom command, which may fetch dependencies) in the target or a stage it copies from.
/// A build with none of these runs only Slipway's own user-creation steps and gets no network at all.
/// </summary>
public static class BuildNetworkNeeds
{
    public static bool InstallsPackages(string yaml, string variant, Limits? limits)
    {
        var expanded = Expander.Expand(ConfigParser.Parse(yaml, limits), variant);
        return expanded.Stages.Any(s => !s.IsScratch && Installs(s.Common));
    }

    private static bool Installs(CommonConfig c) =>
        !c.Apt.IsEmpty || c.Builders is { Count: > 0 } || c.Node is not null || c.Php is not null || c.Python is not null || c.Builder is not null;
}
