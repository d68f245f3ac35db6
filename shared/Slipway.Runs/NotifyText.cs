using Slipway.Contracts;

namespace Slipway.Runs;

/// <summary>
/// A failure notice's subject and body with their runtime outputs resolved (PipelineLib's <c>${test.output}</c> in
/// <c>notify.email.body</c>). The notice is about a failure, so a step that recorded no result (it failed or never ran)
/// gives an empty value; a failed run step's output is its failure's output tail. Kept within the event's limits: the
/// subject one line of at most 998 characters, the body at most 16384. Recipients from runtime outputs are split on
/// commas and white space (an output ends with a line break; PipelineLib joined the entries with ','); an address longer
/// than 254 characters is left out, and at most 50 are kept.
/// </summary>
public static class NotifyText
{
    public const int MaxSubject = 998;
    public const int MaxBody = 16_384;

    public const int MaxRecipients = 50;

    public static (IReadOnlyList<string> To, string Subject, string Body) Resolve(StageNotify notify, RunState run)
    {
        string Resolved(string plain, string key)
        {
            try
            {
                return RuntimeOutputResolver.Field(plain, key, notify.Runtime, run, missingAsEmpty: true);
            }
            catch (RuntimeOutputException e)
            {
                return $"({e.Message})"; // too long or not text: the notice still goes out, saying why the value is missing
            }
        }
        var subject = new string(Resolved(notify.Subject, "subject").Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        var body = Resolved(notify.Body, "body");
        return (Recipients(notify, run), Bounded(subject, MaxSubject), Bounded(body, MaxBody));
    }

    private static IReadOnlyList<string> Recipients(StageNotify notify, RunState run)
    {
        var resolved = new List<string>();
        for (var i = 0; i < notify.To.Count; i++)
        {
            if (notify.Runtime?.ContainsKey($"to[{i}]") != true)
            {
                resolved.Add(notify.To[i]); // written: checked at planning
                continue;
            }
            try
            {
                resolved.AddRange(Split(RuntimeOutputResolver.Field(notify.To[i], $"to[{i}]", notify.Runtime, run, missingAsEmpty: true)));
            }
            catch (RuntimeOutputException)
            {
                // too long: nobody to add from it; the written recipients are still told
            }
        }
        if (notify.ToEach is { } each)
        {
            try
            {
                resolved.AddRange(RuntimeOutputResolver.Expand(each, "notify.email.to", run).SelectMany(Split));
            }
            catch (RuntimeOutputException)
            {
                // its output is missing (the stage failed before it) or too long: nobody to add from it
            }
        }
        return resolved.Distinct(StringComparer.OrdinalIgnoreCase).Take(MaxRecipients).ToList();
    }

    private static IEnumerable<string> Split(string value) =>
        value.Split([',', ' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries)
            .Where(a => a.Length <= 254 && !a.Any(char.IsControl));

    private static string Bounded(string value, int max) => value.Length <= max ? value : value[..(max - 1)] + "…";
}
