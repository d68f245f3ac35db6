using Slipway.BuildConfig;

namespace Slipway.Tests.BuildConfig;

internal static class T
{
    /// <summary>The classic-builder rendering (no RUN flags; BuildKit-only features refused), which most layout tests pin.</summary>
    public static readonly CompileOptions Options = new() { Version = "test", BuildKit = false };

    /// <summary>The BuildKit rendering (the default), with a project cache scope and a fixed run-variant nonce.</summary>
    public static readonly CompileOptions Kit = new() { Version = "test", CacheScope = "gerrit/demo", RunVariantNonce = "n0" };

    public static string Df(string yaml, string variant, Policy? policy = null, CompileOptions? options = null) =>
        Blubber.Dockerfile(yaml, variant, policy, options ?? Options);

    public static string[] Lines(string yaml, string variant, CompileOptions? options = null) =>
        Df(yaml, variant, options: options).Split('\n');

    public static BlubberException Refused(string yaml, string variant = "test", Policy? policy = null, CompileOptions? options = null, Limits? limits = null) =>
        Assert.Throws<BlubberException>(() => Blubber.Dockerfile(yaml, variant, policy, options ?? Options, limits));

    public const string Users =
        """
        ARG LIVES_AS="somebody"
        ARG LIVES_UID=65533
        ARG LIVES_GID=65533
        RUN (getent group "$LIVES_GID" || groupadd -o -g "$LIVES_GID" -r "$LIVES_AS") && (getent passwd "$LIVES_UID" || useradd -l -o -m -d "/home/$LIVES_AS" -r -g "$LIVES_GID" -u "$LIVES_UID" "$LIVES_AS") && mkdir -p "/srv/app" && chown "$LIVES_UID":"$LIVES_GID" "/srv/app" && mkdir -p "/opt/lib" && chown "$LIVES_UID":"$LIVES_GID" "/opt/lib"
        ARG RUNS_AS="runuser"
        ARG RUNS_UID=900
        ARG RUNS_GID=900
        RUN (getent group "$RUNS_GID" || groupadd -o -g "$RUNS_GID" -r "$RUNS_AS") && (getent passwd "$RUNS_UID" || useradd -l -o -m -d "/home/$RUNS_AS" -r -g "$RUNS_GID" -u "$RUNS_UID" "$RUNS_AS")
        """;

    /// <summary>A whole Dockerfile of a default variant: header, users, the given middle (pre-install and install), the given tail.</summary>
    public static string Expected(string stage, string middle, string tail, string image = "debian:bookworm") =>
        $"FROM {image} AS {stage}\nUSER 0\nENV HOME=\"/root\"\n{Users}\nUSER $LIVES_UID\nENV HOME=\"/home/somebody\"\nWORKDIR \"/srv/app\"\n"
        + (middle.Length > 0 ? middle + "\n" : "")
        + "USER $RUNS_UID\nENV HOME=\"/home/$RUNS_AS\"\n" + (tail.Length > 0 ? tail + "\n" : "")
        + $"\nLABEL blubber.variant=\"{stage}\" blubber.version=\"test\"\n";
}
