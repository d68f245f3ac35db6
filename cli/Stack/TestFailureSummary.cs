using System.Xml.Linq;

namespace Slipway.Cli.Stack;

/// <summary>One failed test as a TRX file records it.</summary>
internal sealed record FailedTest(string Name, string Method, string Message, string Stack);

/// <summary>
/// Reads the TRX files `dotnet test` wrote: which tests failed, with the start of their messages. The list is
/// printed last of all, because CI shows only the tail of the output and the names of what failed must be in it.
/// </summary>
internal static class TestFailureSummary
{
    private static readonly XNamespace Trx = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
    private const int MessageLines = 12;
    private const int LineChars = 300;

    /// <summary>How many TRX files the run wrote (one per test project that finished).</summary>
    public static int ResultFileCount(string resultsDirectory) =>
        Directory.Exists(resultsDirectory) ? Directory.GetFiles(resultsDirectory, "*.trx", SearchOption.AllDirectories).Length : 0;

    public static IReadOnlyList<FailedTest> Read(string resultsDirectory, TextWriter output)
    {
        var failed = new List<FailedTest>();
        if (!Directory.Exists(resultsDirectory)) return failed;
        foreach (var file in Directory.EnumerateFiles(resultsDirectory, "*.trx", SearchOption.AllDirectories))
        {
            XDocument doc;
            try { doc = XDocument.Load(file); }
            catch (Exception e) { output.WriteLine($"(could not read {Path.GetFileName(file)}: {e.Message})"); continue; }
            // A theory's cases share one method: the method (class + name) is what a filter can select.
            var methods = doc.Descendants(Trx + "UnitTest").ToDictionary(
                t => (string?)t.Attribute("id") ?? "",
                t => t.Element(Trx + "TestMethod") is { } m ? $"{(string?)m.Attribute("className")}.{(string?)m.Attribute("name")}" : "");
            foreach (var result in doc.Descendants(Trx + "UnitTestResult"))
            {
                if ((string?)result.Attribute("outcome") != "Failed") continue;
                var error = result.Element(Trx + "Output")?.Element(Trx + "ErrorInfo");
                failed.Add(new FailedTest((string?)result.Attribute("testName") ?? "?",
                    methods.GetValueOrDefault((string?)result.Attribute("testId") ?? "", ""),
                    (string?)error?.Element(Trx + "Message") ?? "",
                    (string?)error?.Element(Trx + "StackTrace") ?? ""));
            }
        }
        return failed;
    }

    public static void Print(string title, IReadOnlyList<FailedTest> failed, TextWriter output)
    {
        if (failed.Count == 0) return;
        output.WriteLine($"{title} ({failed.Count}):");
        foreach (var test in failed)
        {
            output.WriteLine($"- {test.Name}");
            foreach (var line in Head(test.Message, MessageLines)) output.WriteLine($"    {line}");
            foreach (var line in Head(test.Stack, 3)) output.WriteLine($"    {line}");
        }
    }

    private static IEnumerable<string> Head(string text, int lines) =>
        text.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).Take(lines)
            .Select(l => l.Length > LineChars ? l[..LineChars] + "…" : l);
}
