using System.Globalization;
using System.Text;

namespace Slipway.GerritStandIn;

// The query language of GET /changes/ (the subset Slipway and its tests use) and Gerrit's time format in it.
public sealed partial class GerritStandIn
{
    /// <summary>Parses the supported subset of Gerrit's query language (terms ANDed).</summary>
    private static List<Func<ChangeState, bool>> ParseQuery(string query)
    {
        var predicates = new List<Func<ChangeState, bool>>();
        foreach (var token in Tokenize(query))
        {
            if (token is "AND") continue;
            if (token is "OR" or "NOT" || token.StartsWith('-') || token.StartsWith('('))
                throw new StandInException(400, $"Unsupported query: the stand-in supports only ANDed terms ({token})");
            var colon = token.IndexOf(':');
            if (colon < 0)
            {
                var bare = token;
                predicates.Add(c => c.Number.ToString() == bare || c.ChangeId == bare || c.Current.Revision.StartsWith(bare, StringComparison.Ordinal));
                continue;
            }
            var op = token[..colon];
            var value = Unquote(token[(colon + 1)..]);
            switch (op)
            {
                case "after" or "since":
                { var t = ParseTime(value); predicates.Add(c => c.Updated >= t); break; }
                case "before" or "until":
                { var t = ParseTime(value); predicates.Add(c => c.Updated <= t); break; }
                case "project":
                    predicates.Add(c => c.Project == value); break;
                case "branch":
                    predicates.Add(c => c.Branch == value || c.RefName == value); break;
                case "change":
                    predicates.Add(c => c.Number.ToString() == value || c.ChangeId == value); break;
                case "owner":
                    predicates.Add(c => c.Owner.Username == value || c.Owner.Email == value || c.Owner.Id.ToString() == value); break;
                case "status" or "is":
                    predicates.Add(value.ToLowerInvariant() switch
                    {
                        "open" or "new" or "pending" => c => c.Status == "NEW",
                        "closed" => c => c.Status != "NEW",
                        "merged" => c => c.Status == "MERGED",
                        "abandoned" => c => c.Status == "ABANDONED",
                        _ => throw new StandInException(400, $"Unrecognized value: {value}"),
                    });
                    break;
                case "limit":
                    break;
                default:
                    throw new StandInException(400, $"Unsupported operator {op}:{value}");
            }
        }
        return predicates;
    }

    private static IEnumerable<string> Tokenize(string q)
    {
        var sb = new StringBuilder();
        char? quote = null;
        foreach (var ch in q)
        {
            if (quote is not null)
            {
                sb.Append(ch);
                if (ch == quote) quote = null;
                continue;
            }
            if (ch is '"' or '\'') { quote = ch; sb.Append(ch); continue; }
            if (ch == '{') { quote = '}'; sb.Append(ch); continue; }
            if (char.IsWhiteSpace(ch) || ch == '+')
            {
                if (sb.Length > 0) { yield return sb.ToString(); sb.Clear(); }
                continue;
            }
            sb.Append(ch);
        }
        if (quote is not null) throw new StandInException(400, "unterminated quote in query");
        if (sb.Length > 0) yield return sb.ToString();
    }

    private static string Unquote(string v) =>
        v.Length >= 2 && ((v[0] == '"' && v[^1] == '"') || (v[0] == '\'' && v[^1] == '\'') || (v[0] == '{' && v[^1] == '}')) ? v[1..^1] : v;

    /// <summary>`2006-01-02[ 15:04:05[.890][ -0700]]`; no zone = UTC.</summary>
    internal static DateTimeOffset ParseTime(string value)
    {
        string[] formats =
        [
            "yyyy-MM-dd", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.f", "yyyy-MM-dd HH:mm:ss.ff", "yyyy-MM-dd HH:mm:ss.fff",
            "yyyy-MM-dd HH:mm:ss.ffffff", "yyyy-MM-dd HH:mm:ss.fffffff",
            "yyyy-MM-dd HH:mm:ss zzz", "yyyy-MM-dd HH:mm:ss.fff zzz",
        ];
        var v = value.Trim();
        // Gerrit's zone format is -0700; .NET's zzz wants -07:00.
        if (v.Length > 5 && (v[^5] is '+' or '-') && v[^6] == ' ' && v[^4..].All(char.IsAsciiDigit)) v = v[..^2] + ":" + v[^2..];
        var dot = v.IndexOf('.');
        if (dot > 0)
        {   // fractions longer than 7 digits (Gerrit's nanoseconds): keep 7
            var end = dot + 1;
            while (end < v.Length && char.IsAsciiDigit(v[end])) end++;
            if (end - dot - 1 > 7) v = v[..(dot + 8)] + v[end..];
        }
        if (DateTimeOffset.TryParseExact(v, formats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
            return t;
        throw new StandInException(400, $"Unrecognized date/time: {value}");
    }
}
