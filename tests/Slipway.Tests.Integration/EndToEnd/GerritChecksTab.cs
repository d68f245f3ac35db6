using System.Text.Json;
using Slipway.Contracts;
using Slipway.Embedded;

namespace Slipway.Tests.Integration.EndToEnd;

/// <summary>
/// What Gerrit's Checks tab shows for a patch set: the reporter's check runs, read once directly and once
/// through the shipped UI plugin (plugins/slipway-checks.js as the reporter serves it), run by Node.js with
/// the one part of Gerrit's plugin API it uses (Gerrit.install → plugin.checks().register) standing in.
/// </summary>
internal static class GerritChecksTab
{
    public static async Task AssertShowsPassedRunAsync(PipelineEnvironment env, RunStarted started, int change, int patchset)
    {
        var reporter = env.UrlOf("reporter");
        var planned = started.Plan.Stages.SelectMany(s => s.Steps.Select(step => $"{s.Name}/{step.Name}")).ToList();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        // Direct: one completed, passing check per planned step, voting on Verified, linking the run page.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{reporter}/checks/changes/{change}/patchsets/{patchset}");
        request.Headers.Add("Origin", new Uri(env.Gerrit.Gerrit.HttpUrl).GetLeftPart(UriPartial.Authority));
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        Assert.Equal(new Uri(env.Gerrit.Gerrit.HttpUrl).GetLeftPart(UriPartial.Authority),
            Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        using (var direct = JsonDocument.Parse(await response.Content.ReadAsStringAsync()))
        {
            Assert.Equal("OK", direct.RootElement.GetProperty("responseCode").GetString());
            var runs = direct.RootElement.GetProperty("runs").EnumerateArray().ToList();
            Assert.Equal(planned, runs.Select(r => r.GetProperty("checkName").GetString()));
            Assert.All(runs, r =>
            {
                Assert.Equal(("COMPLETED", 1, "Verified"),
                    (r.GetProperty("status").GetString(), r.GetProperty("attempt").GetInt32(), r.GetProperty("labelName").GetString()));
                Assert.Matches($"^{reporter}/runs/[0-9a-f-]+$", r.GetProperty("checkLink").GetString());
                Assert.Equal("SUCCESS", r.GetProperty("results")[0].GetProperty("category").GetString());
            });
        }

        // Another origin may not read it from a browser.
        using var foreign = new HttpRequestMessage(HttpMethod.Get, $"{reporter}/checks/changes/{change}/patchsets/{patchset}");
        foreign.Headers.Add("Origin", "http://127.0.0.2:9");
        using var foreignResponse = await http.SendAsync(foreign);
        Assert.False(foreignResponse.Headers.Contains("Access-Control-Allow-Origin"));

        // Through the plugin, as Gerrit's UI calls it.
        var plugin = await http.GetStringAsync($"{reporter}/plugins/slipway-checks.js");
        var dir = Directory.CreateTempSubdirectory("slipway-checks-plugin-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "slipway-checks.js"), plugin);
            await File.WriteAllTextAsync(Path.Combine(dir, "gerrit.js"), $$"""
                let provider, config;
                globalThis.Gerrit = { install: cb => cb({ checks: () => ({ register: (p, c) => { provider = p; config = c; } }) }) };
                require('./slipway-checks.js');
                provider.fetch({ changeNumber: {{change}}, patchsetNumber: {{patchset}}, patchsetSha: '', repo: '' }).then(r => {
                  const dates = r.runs.every(run => run.startedTimestamp instanceof Date && run.finishedTimestamp instanceof Date);
                  console.log(JSON.stringify({ code: r.responseCode, names: r.runs.map(x => x.checkName), dates, poll: config.fetchPollingIntervalSeconds }));
                });
                """);
            var (exit, stdout, stderr) = await ProcessRunner.RunAsync("node", [Path.Combine(dir, "gerrit.js")], timeout: TimeSpan.FromSeconds(60));
            Assert.True(exit == 0, $"node exited {exit}: {stderr}");
            using var viaPlugin = JsonDocument.Parse(stdout);
            Assert.Equal("OK", viaPlugin.RootElement.GetProperty("code").GetString());
            Assert.Equal(planned, viaPlugin.RootElement.GetProperty("names").EnumerateArray().Select(n => n.GetString()));
            Assert.True(viaPlugin.RootElement.GetProperty("dates").GetBoolean());
            Assert.Equal(15, viaPlugin.RootElement.GetProperty("poll").GetInt32());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
