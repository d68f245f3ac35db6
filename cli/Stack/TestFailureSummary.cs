using System.Xml.Linq;

namespace Slipway.Cli.Stack;

/// <summary>
/// Reads the TRX files `dotnet test` wrote and prints each failed test with the start of its message,
/// last of all: CI shows only the tail of the output, and the names of what failed must be in it.
/// </summary>
internal static class TestFailureSummary
{
    private static readonly XNamespace Trx = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
    private const int MessageLines = 12;
    private const int LineChars = 300;

    public static void Print(string resultsDirectory, TextWriter output)
    {
        if (!Directory.Exists(resultsDirectory)) return;
        var failed = new List<(string Name, string Message, string Stack)>();
        foreach (var file in Directory.EnumerateFiles(resultsDirectory, "*.trx", SearchOption.AllDirectories))
        {
            XDocument doc;
            try { doc = XDocument.Load(file); }
            catch (Exception e) { output.WriteLine($"(could not read {Path.GetFileName(file)}: {e.Message})"); continue; }
            foreach (var result in doc.Descendants(Trx + "UnitTestResult"))
            {
                if ((string?)result.Attribute("outcome") != "Failed") continue;
                var error = result.Element(Trx + "Output")?.Element(Trx + "ErrorInfo");
                failed.Add(((string?)result.Attribute("testName") ?? "?",
                    (string?)error?.Element(Trx + "Message") ?? "",
                    (string?)error?.Element(Trx + "StackTrace") ?? ""));
            }
        }
        if (failed.Count == 0) return;
        output.WriteLine($"failed tests ({failed.Count}):");
        foreach (var (name, message, stack) in failed)
        {
            output.WriteLine($"- {name}");
            foreach (var line in Head(message, MessageLines)) output.WriteLine($"    {line}");
            foreach (var line in Head(stack, 3)) output.WriteLine($"    {line}");
        }
    }

    private static IEnumerable<string> Head(string text, int lines) =>
        text.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).Take(lines)
            .Select(l => l.Length > LineChars ? l[..LineChars] + "…" : l);
}
