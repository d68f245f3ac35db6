using System.Formats.Tar;
using System.Text;
using Slipway.Artifacts;
using Slipway.Contracts;
using Slipway.Reporter.Runs;
using Slipway.Tester.Copying;

namespace Slipway.Tests.Unit.Tester;

/// <summary>
/// One rule for archived file names, which reach the run page, downloads, <c>artifactURLs</c> and Gerrit: a path with a
/// control, format (bidi override or isolate, direction mark, zero-width), line or paragraph separator character, or a
/// lone surrogate, is not archived by the tester (the step fails naming the path, escaped, as it does for a link or a
/// limit) and not recorded by the reporter; ordinary non-ASCII names are archived.
/// </summary>
public sealed class ArchivedNameRuleTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("slipway-names-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    public static TheoryData<string, string?, string> Names => new()
    {
        // name, what Find says (null: accepted), how a message shows it
        { "résumé.txt", null, "résumé.txt" },
        { "日本.txt", null, "日本.txt" },
        { "emoji-😀.txt", null, "emoji-😀.txt" },
        { "a b#%?.txt", null, "a b#%?.txt" },
        { "a\\b", null, "a\\\\b" },
        { "report\u202Eexe.txt", "U+202E (a bidi control character)", "report\\u202Eexe.txt" },
        { "a\u202Ab", "U+202A (a bidi control character)", "a\\u202Ab" },
        { "a\u202Db", "U+202D (a bidi control character)", "a\\u202Db" },
        { "a\u2066b", "U+2066 (a bidi control character)", "a\\u2066b" },
        { "a\u2069b", "U+2069 (a bidi control character)", "a\\u2069b" },
        { "a\u200Fb", "U+200F (a bidi control character)", "a\\u200Fb" },
        { "a\u061Cb", "U+061C (a bidi control character)", "a\\u061Cb" },
        { "a\u2028b", "U+2028 (a line separator)", "a\\u2028b" },
        { "a\u2029b", "U+2029 (a paragraph separator)", "a\\u2029b" },
        { "a\rb", "U+000D (a control character)", "a\\u000Db" },
        { "a\nb", "U+000A (a control character)", "a\\u000Ab" },
        { "a\u001B[31mb", "U+001B (a control character)", "a\\u001B[31mb" },
        { "a\u0085b", "U+0085 (a control character)", "a\\u0085b" },
        { "a\u200Bb", "U+200B (an invisible format character)", "a\\u200Bb" },
        { "a\uFEFFb", "U+FEFF (an invisible format character)", "a\\uFEFFb" },
        { "a\U000E0041b", "U+0E0041 (an invisible format character)", "a\\U000E0041b" },
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void The_rule_finds_each_character_class_and_escapes_it(string name, string? found, string shown)
    {
        Assert.Equal(found, HostileCharacters.Find(name));
        Assert.Equal(shown, HostileCharacters.Escaped(name));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task The_tester_archives_only_a_name_the_rule_accepts(string name, string? found, string shown)
    {
        var staging = Directory.CreateDirectory(Path.Combine(_root, "staging")).FullName;
        var archived = new Dictionary<string, RunArtifact>();
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "dist/"));
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "dist/ok.txt") { DataStream = new MemoryStream("ok"u8.ToArray()) });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "dist/sub") { DataStream = new MemoryStream("x"u8.ToArray()) });
        }
        tar.Position = 0;
        // The file name is the copy's destination, as the config and the container's names both land in the archived path.
        var reason = await ContainerFileCopier.ExtractAsync(tar, new RunCopy { Source = "/srv/dist", Destination = "out/" + name + "/", Archive = true },
            staging, new ArtifactOptions(), archived, CancellationToken.None);

        if (found is null)
        {
            Assert.Null(reason);
            Assert.Equal([$"out/{name}/ok.txt", $"out/{name}/sub"], archived.Keys.Order(StringComparer.Ordinal));
        }
        else
        {
            Assert.Equal($"`out/{shown}/ok.txt` is not archived: its name contains {found} ({ContainerFileCopier.HostileNameRule})", reason);
            Assert.Empty(archived);
        }
    }

    [Fact]
    public void The_reporter_records_only_names_the_rule_accepts()
    {
        RunArtifact A(string path) => new() { Path = path, SizeBytes = 1, Sha256 = new string('a', 64) };
        var accepted = RunArtifactLedger.Accepted(
            [A("logs/résumé.txt"), A("logs/report\u202Eexe.txt"), A("logs/日本.txt"), A("a\u2028b"), A("c\u2066d")], out var refused);

        Assert.Equal(["logs/résumé.txt", "logs/日本.txt"], accepted.Select(a => a.Path));
        Assert.Equal(
        [
            "`logs/report\\u202Eexe.txt` contains U+202E (a bidi control character)",
            "`a\\u2028b` contains U+2028 (a line separator)",
            "`c\\u2066d` contains U+2066 (a bidi control character)",
        ], refused);
    }

    [Fact]
    public void A_lone_surrogate_is_found_and_escaped()
    {
        // Not in the table: xUnit passes theory data through UTF-8, which would turn it into U+FFFD.
        Assert.Equal("U+D800 (a lone surrogate)", HostileCharacters.Find("a\uD800b"));
        Assert.Equal("a\\uD800b", HostileCharacters.Escaped("a\uD800b"));
        Assert.Equal("a\uFFFDb", HostileCharacters.Replaced("a\uD800b"));
    }

    [Fact]
    public void A_long_name_is_shown_cut()
    {
        var shown = HostileCharacters.Escaped(new string('x', 500) + "\u202E");
        Assert.Equal(new string('x', HostileCharacters.MaxShownChars) + "…", shown);
    }
}
