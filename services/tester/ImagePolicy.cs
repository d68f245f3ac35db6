namespace Slipway.Tester;

/// <summary>The non-root rule shared by the test and smoke steps.</summary>
public static class ImagePolicy
{
    /// <summary>
    /// True when an image's configured user (<c>Config.User</c>) makes its process run as root: empty (Docker's
    /// default is root), <c>root</c>, uid <c>0</c>, or any of those with a group. A user name that maps to uid 0
    /// in the image's /etc/passwd is not detected here.
    /// </summary>
    public static bool RunsAsRoot(string? user)
    {
        if (string.IsNullOrWhiteSpace(user)) return true;
        var name = user.Trim().Split(':', 2)[0];
        return name.Length == 0 || name == "root" || (name.All(char.IsAsciiDigit) && int.TryParse(name, out var uid) && uid == 0);
    }

    public static string RootRefusal(string? user) =>
        $"image runs as root (user '{user ?? ""}'); refused by policy";
}
