using System.Globalization;
using System.Text.Json.Nodes;

namespace Slipway.GerritStandIn;

// A change as Gerrit's REST API returns it (ChangeInfo, AccountInfo, its labels and revisions), by the requested options.
public sealed partial class GerritStandIn
{
    private static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fffffff", CultureInfo.InvariantCulture) + "00";

    private static JsonObject AccountInfo(GerritAccount a, bool detailed)
    {
        if (!detailed) return new JsonObject { ["_account_id"] = a.Id };
        var info = new JsonObject { ["_account_id"] = a.Id, ["name"] = a.Name, ["email"] = a.Email, ["username"] = a.Username };
        if (a.ServiceUser) info["tags"] = new JsonArray("SERVICE_USER");
        return info;
    }

    private JsonObject ChangeInfo(ChangeState c, HashSet<string> o)
    {
        var detailedAccounts = o.Contains("DETAILED_ACCOUNTS");
        var info = new JsonObject
        {
            ["id"] = $"{c.Project}~{c.Number}",
            ["triplet_id"] = $"{c.Project}~{c.Branch}~{c.ChangeId}",
            ["project"] = c.Project,
            ["branch"] = c.Branch,
            ["change_id"] = c.ChangeId,
            ["subject"] = c.Subject,
            ["status"] = c.Status,
            ["created"] = Timestamp(c.Created),
            ["updated"] = Timestamp(c.Updated),
        };
        if (c.Submitted is { } sub) info["submitted"] = Timestamp(sub);
        info["insertions"] = c.Current.Insertions;
        info["deletions"] = c.Current.Deletions;
        info["_number"] = c.Number;
        info["owner"] = AccountInfo(c.Owner, detailedAccounts);
        if (c.Submitter is { } submitter) info["submitter"] = AccountInfo(submitter, detailedAccounts);
        info["current_revision_number"] = c.Current.Number;

        if (o.Contains("LABELS") || o.Contains("DETAILED_LABELS"))
        {
            var labels = new JsonObject();
            List<LabelDefinition> defs;
            lock (_labels) defs = [.. _labels.Values.OrderBy(l => l.Name, StringComparer.Ordinal)];
            foreach (var def in defs)
            {
                var l = new JsonObject();
                var votes = c.Votes.TryGetValue(def.Name, out var v) ? v : [];
                AccountsByVote(votes, def.Max, "approved");
                AccountsByVote(votes, def.Min, "rejected");
                if (o.Contains("DETAILED_LABELS"))
                {
                    var all = new JsonArray();
                    foreach (var (acct, value) in votes)
                    {
                        var a = AccountInfo(FindAccount(acct), detailedAccounts);
                        a["value"] = value;
                        all.Add(a);
                    }
                    l["all"] = all;
                    var values = new JsonObject();
                    for (var i = def.Min; i <= def.Max; i++) values[i > 0 ? $"+{i}" : i == 0 ? " 0" : $"{i}"] = i == 0 ? "No score" : "";
                    l["values"] = values;
                }
                labels[def.Name] = l;

                void AccountsByVote(Dictionary<int, int> vs, int target, string key)
                {
                    var who = vs.FirstOrDefault(x => x.Value == target && target != 0);
                    if (who.Key != 0) { l[key] = AccountInfo(FindAccount(who.Key), detailedAccounts); }
                }
            }
            info["labels"] = labels;
        }
        if (o.Contains("DETAILED_LABELS")) // Gerrit lists reviewers by state with detailed labels
        {
            var reviewers = new JsonArray();
            foreach (var id in c.Reviewers) reviewers.Add(AccountInfo(FindAccount(id), detailedAccounts));
            info["reviewers"] = new JsonObject { ["REVIEWER"] = reviewers };
        }
        if (o.Contains("MESSAGES"))
        {
            var msgs = new JsonArray();
            foreach (var m in c.Messages)
            {
                var mo = new JsonObject
                {
                    ["id"] = m.Id, ["author"] = AccountInfo(m.Author, detailedAccounts), ["date"] = Timestamp(m.Date),
                    ["message"] = m.Message, ["_revision_number"] = m.PatchSet,
                };
                if (m.Tag is not null) mo["tag"] = m.Tag;
                msgs.Add(mo);
            }
            info["messages"] = msgs;
        }
        var all_ = o.Contains("ALL_REVISIONS");
        if (all_ || o.Contains("CURRENT_REVISION"))
        {
            info["current_revision"] = c.Current.Revision;
            var revs = new JsonObject();
            foreach (var ps in all_ ? c.PatchSets : [c.Current])
            {
                var r = new JsonObject
                {
                    ["kind"] = ps.Kind, ["_number"] = ps.Number, ["created"] = Timestamp(ps.Created),
                    ["uploader"] = AccountInfo(ps.Uploader, detailedAccounts), ["ref"] = ps.Ref,
                    ["fetch"] = new JsonObject
                    {
                        ["anonymous http"] = new JsonObject { ["url"] = $"{HttpUrl}/{c.Project}", ["ref"] = ps.Ref },
                        ["http"] = new JsonObject { ["url"] = $"{HttpUrl}/a/{c.Project}", ["ref"] = ps.Ref },
                    },
                };
                if (o.Contains("ALL_COMMITS") || (o.Contains("CURRENT_COMMIT") && ps == c.Current))
                {
                    var subject = ps.CommitMessage.Split('\n')[0];
                    r["commit"] = new JsonObject
                    {
                        ["parents"] = new JsonArray([.. ps.Parents.Select(p => (JsonNode)new JsonObject { ["commit"] = p })]),
                        ["author"] = new JsonObject { ["name"] = ps.Author.Name, ["email"] = ps.Author.Email, ["date"] = Timestamp(ps.Created), ["tz"] = 0 },
                        ["committer"] = new JsonObject { ["name"] = ps.Uploader.Name, ["email"] = ps.Uploader.Email, ["date"] = Timestamp(ps.Created), ["tz"] = 0 },
                        ["subject"] = subject,
                        ["message"] = ps.CommitMessage,
                    };
                }
                revs[ps.Revision] = r;
            }
            info["revisions"] = revs;
        }
        return info;
    }

    private GerritAccount FindAccount(int id)
    {
        lock (_accounts) return _accounts.Values.First(a => a.Id == id);
    }
}
