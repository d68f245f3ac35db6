using System.Security.Cryptography;
using System.Text;
using Slipway.Contracts;
using Slipway.GerritStandIn.Samples;
using Slipway.Tests.Integration.Support;
using Xunit.Abstractions;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// PipelineLib's <c>run.credentials</c> run for real: the operator's secret reaches the run step's container of a run
/// after merge (the step checks its hash and prints it), the printed value is masked in the output Slipway keeps, and
/// the secret appears in no event, Gerrit comment or service log; a patch set's run and a project the credential is
/// not allowed for get a clear refusal instead.
/// </summary>
public sealed class CredentialsRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(12);

    private static readonly string Secret = "tok-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private const string Config = """
        pipelines:
          secret:
            blubberfile: blubber.yaml
            stages:
              - name: uses
                build: uses
                run:
                  credentials: [{id: npm_token, name: NPM_TOKEN}]
          forbidden:
            blubberfile: blubber.yaml
            stages:
              - name: other
                build: uses
                run:
                  credentials: [{id: other_token, name: NPM_TOKEN}]
        """;

    private static IReadOnlyDictionary<string, string?> Files(string baseImage)
    {
        var files = SampleProject.Files(baseImage).ToDictionary();
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Secret)));
        files[".pipeline/blubber.yaml"] += $$"""

              uses:
                entrypoint: [python3, -c, "import os, hashlib; t = os.environ['NPM_TOKEN']; assert hashlib.sha256(t.encode()).hexdigest() == '{{hash}}', 'wrong value'; print('token is', t); print('done')"]
            """;
        files[".pipeline/config.yaml"] = Config;
        return files;
    }

    [Fact]
    public async Task A_merge_run_step_gets_the_secret_masked_and_a_patch_set_or_another_project_gets_a_refusal()
    {
        await using var env = await PipelineEnvironment.StartAsync("creds", new Dictionary<string, string?>
        {
            ["Pipeline__Credentials__npm_token__Value"] = Secret,
            ["Pipeline__Credentials__other_token__Value"] = "not-for-this-project",
            ["Pipeline__Credentials__other_token__Projects__0"] = "someone/else",
        }, project => new Dictionary<string, string?> { ["Pipeline__Credentials__npm_token__Projects__0"] = project });
        try
        {
            var gerrit = env.Gerrit.Gerrit;
            var upload = await gerrit.UploadPatchsetAsync(env.Project, "master", Files(env.BaseImage), "Use a credential");

            // The patch set's run is refused before its first step, with the reason.
            var patchSet = await FinishedAsync(env, r => r.Trigger.Revision == upload.Revision && r.Trigger.Kind == TriggerKind.Patchset
                && r.Plan.Pipeline == "secret");
            Assert.Equal(RunOutcome.Failed, patchSet.Outcome);
            Assert.Contains("`run.credentials`: credentials are given only to runs after merge, never to a patch set's run", patchSet.Reason);

            var merged = await gerrit.MergeAsync(upload.ChangeNumber);
            var isMerge = (RunStarted r) => r.Trigger.Revision == merged && r.Trigger.Kind is TriggerKind.Merge or TriggerKind.RefUpdate;
            var secret = await FinishedAsync(env, r => isMerge(r) && r.Plan.Pipeline == "secret");
            Assert.True(secret.Outcome == RunOutcome.Succeeded, secret.Reason);
            var tested = env.PipelineEvents.Events.Single(e => e.Type == EventTypes.NameOf<TestSucceeded>()
                && e.DataAs<TestSucceeded>().Step == "uses-run" && env.PipelineEvents.Events.Any(s => s.RunId == e.RunId
                    && s.Type == EventTypes.NameOf<RunStarted>() && isMerge(s.DataAs<RunStarted>()))).DataAs<TestSucceeded>();
            Assert.Contains("token is ****\ndone", tested.OutputTail);

            var forbidden = await FinishedAsync(env, r => isMerge(r) && r.Plan.Pipeline == "forbidden");
            Assert.Equal(RunOutcome.Failed, forbidden.Outcome);
            Assert.Contains($"Invalid Credential: 'other_token'. Allowed credentials for {env.Project}: [npm_token]", forbidden.Reason);

            // Nowhere in the events, the comments or the services' logs.
            await Task.Delay(TimeSpan.FromSeconds(3)); // the final comments
            Assert.DoesNotContain(env.PipelineEvents.Events, e => e.ToString()!.Contains(Secret) || System.Text.Json.JsonSerializer.Serialize(e).Contains(Secret));
            Assert.DoesNotContain(gerrit.Reviews(upload.ChangeNumber), r => r.Message?.Contains(Secret) == true);
            Assert.DoesNotContain("not-for-this-project", env.PipelineEvents.Events.Select(e => System.Text.Json.JsonSerializer.Serialize(e)));
            Assert.DoesNotContain(Secret, env.Output);
        }
        catch
        {
            output.WriteLine(env.Output);
            throw;
        }
    }

    private static async Task<RunFinished> FinishedAsync(PipelineEnvironment env, Func<RunStarted, bool> which)
    {
        var started = await env.PipelineEvents.WaitForAsync("the run", e => e.Type == EventTypes.NameOf<RunStarted>() && which(e.DataAs<RunStarted>()), Timeout);
        var finished = await env.PipelineEvents.WaitForAsync("the end of the run",
            e => e.RunId == started.RunId && e.Type == EventTypes.NameOf<RunFinished>(), Timeout);
        return finished.DataAs<RunFinished>();
    }
}
