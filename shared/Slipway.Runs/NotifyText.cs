using Slipway.Contracts;

namespace Slipway.Runs;

/// <summary>
/// A failure notice's subject and body with their runtime outputs resolved (PipelineLib's <c>${test.output}</c> in
/// <c>notify.email.body</c>). The notice is about a failure, so a step that recorded no result (it failed or never ran)
/// gives an empty value; a failed run step's output is its failure's output tail. Kept within the event's limits: the
/// subject one line of at most 998 characters, the body at most 16384.
/// </summary>
public static class NotifyText
{
    public const int MaxSubject = 998;
    public const int MaxBody = 16_384;

    public static (string Subject, string Body) Resolve(StageNotify notify, RunState run)
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
        return (Bounded(subject, MaxSubject), Bounded(body, MaxBody));
    }

    private static string Bounded(string value, int max) => value.Length <= max ? value : value[..(max - 1)] + "…";
}
