using Slipway.Contracts;
using Slipway.Tester.Runs;

namespace Slipway.Tests.Unit.Tester;

/// <summary>
/// The tester binds <c>run.credentials</c> only in runs after merge and for allowed projects, whatever the plan says
/// (a plan is an event anyone with topic access could write), and masks the values in what it reports.
/// </summary>
public sealed class RunCredentialsTests
{
    private const string Secret = "s3cr3t-t0ken-value";

    private static readonly RunCredentials Credentials = new(new RunCredentialsOptions
    {
        Credentials =
        {
            ["npm-token"] = new RunCredentialsOptions.Credential { Value = Secret, Projects = ["team/service"] },
        },
    });

    private static RunTrigger Trigger(TriggerKind kind, string project = "team/service") =>
        new() { Kind = kind, Project = project, Ref = "refs/heads/master", Revision = new string('a', 40) };

    private static readonly IReadOnlyList<RunCredential> Wanted = [new() { Id = "npm-token", Name = "NPM_TOKEN" }];

    [Theory]
    [InlineData(TriggerKind.Merge)]
    [InlineData(TriggerKind.RefUpdate)]
    public void A_run_after_merge_of_an_allowed_project_gets_the_value(TriggerKind kind)
    {
        var binding = Credentials.Bind(Trigger(kind), Wanted, out var refusal);
        Assert.Null(refusal);
        Assert.Equal(Secret, binding!.Env["NPM_TOKEN"]);
        Assert.Equal([Secret], binding.Secrets);
    }

    [Theory]
    [InlineData(TriggerKind.Patchset)]
    [InlineData(TriggerKind.Recheck)]
    public void A_patch_set_run_gets_nothing(TriggerKind kind)
    {
        Assert.Null(Credentials.Bind(Trigger(kind), Wanted, out var refusal));
        Assert.Equal("run.credentials: credentials are given only to runs after merge, never to a patch set's run", refusal);
    }

    [Theory]
    [InlineData("other/project", "npm-token")]
    [InlineData("team/service", "unknown")]
    public void A_project_not_allowed_or_an_unknown_id_gets_nothing(string project, string id)
    {
        Assert.Null(Credentials.Bind(Trigger(TriggerKind.Merge, project), [new RunCredential { Id = id, Name = "T" }], out var refusal));
        Assert.Equal($"Invalid Credential: '{id}' is not allowed for {project} (Pipeline:Credentials:<id>:Projects)", refusal);
    }

    [Fact]
    public void Values_and_the_lines_of_multi_line_values_are_masked()
    {
        const string key = "-----BEGIN KEY-----\nAAAAB3NzaC1yc2EAAAADAQAB\n-----END KEY-----";
        Assert.Equal("token is ****, again ****.", SecretMask.Apply($"token is {Secret}, again {Secret}.", [Secret]));
        Assert.Equal("key:\n****\nline: ****", SecretMask.Apply($"key:\n{key}\nline: AAAAB3NzaC1yc2EAAAADAQAB", [key]));
        Assert.Equal("nothing secret", SecretMask.Apply("nothing secret", []));
    }

    [Theory]
    [InlineData("bad id!", "x", "Pipeline:Credentials: 'bad id!' is not a credential id (letters, digits, '.', '_', '-', at most 128)")]
    [InlineData("ok", "", "Pipeline:Credentials:ok:Value must be set, at most 16384 characters, without NUL")]
    [InlineData("ok", "a\0b", "Pipeline:Credentials:ok:Value must be set, at most 16384 characters, without NUL")]
    public void Configuration_is_checked(string id, string value, string error)
    {
        var options = new RunCredentialsOptions { Credentials = { [id] = new RunCredentialsOptions.Credential { Value = value, Projects = ["p"] } } };
        Assert.Equal([error], options.Validate());
    }
}
