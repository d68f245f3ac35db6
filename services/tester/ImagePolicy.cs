using Docker.DotNet;
using Docker.DotNet.Models;

namespace Slipway.Tester;

/// <summary>The non-root rule shared by the test and smoke steps, and the image check both start with.</summary>
public static class ImagePolicy
{
    /// <summary>
    /// True when an image's configured user (<c>Config.User</c>) makes its process run as root: empty (Docker's
    /// default is root), <c>root</c>, uid <c>0</c> (also written <c>00</c>, <c>+0</c> or <c>-0</c>), or any of those with a group. A user name that maps to uid 0
    /// in the image's /etc/passwd is not detected here.
    /// </summary>
    public static bool RunsAsRoot(string? user)
    {
        if (string.IsNullOrWhiteSpace(user)) return true;
        var name = user.Trim().Split(':', 2)[0];
        // The engine reads a numeric user with Go's Atoi, which takes a sign: "+0" and "-0" are uid 0 (checked on docker.io 20.10).
        var digits = name.Length > 1 && name[0] is '+' or '-' ? name[1..] : name;
        return name.Length == 0 || name == "root" || (digits.Length > 0 && digits.All(char.IsAsciiDigit) && digits.All(c => c == '0'));
    }

    public static string RootRefusal(string? user) =>
        $"image runs as root (user '{user ?? ""}'); refused by policy";

    /// <summary>What <see cref="CheckAsync"/> found: the image's configured user, and the refusal to report (null: it may run).</summary>
    public sealed record ImageCheck(string? User, string? Refusal);

    /// <summary>
    /// Looks the image up on the engine and applies the non-root rule (<paramref name="allowRoot"/> lifts it). The
    /// caller runs the container as the <see cref="ImageCheck.User"/> checked here, so what was checked is what runs.
    /// </summary>
    public static async Task<ImageCheck> CheckAsync(IDockerClient docker, string image, bool allowRoot, CancellationToken ct)
    {
        ImageInspectResponse inspected;
        try
        {
            inspected = await docker.Images.InspectImageAsync(image, ct).ConfigureAwait(false);
        }
        catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return new ImageCheck(null, $"image '{image}' not found on the container engine");
        }
        var user = inspected.Config?.User;
        return new ImageCheck(user, RunsAsRoot(user) && !allowRoot ? RootRefusal(user) : null);
    }
}
