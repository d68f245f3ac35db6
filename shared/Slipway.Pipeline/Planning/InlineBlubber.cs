using System.Text;
using System.Text.Json;

namespace Slipway.Pipeline.Planning;

/// <summary>
/// PipelineLib's inline <c>blubberfile</c> object (it wrote it to a temporary file in the checkout): the interpolated
/// object as block-style YAML (every scalar JSON-quoted), so a refused variant can be refused alone as in a file.
/// The plan carries the text; the builder builds from it.
/// </summary>
public static class InlineBlubber
{
    public const int MaxBytes = 256 * 1024;

    public static string ToText(ConfigMap config)
    {
        var sb = new StringBuilder();
        Write(sb, config, 0);
        var text = sb.ToString();
        if (Encoding.UTF8.GetByteCount(text) > MaxBytes)
            throw new PipelineConfigException($"`blubberfile`: an inline Blubber config may be at most {MaxBytes} bytes", config.Line);
        return text;
    }

    /// <summary>The name the plan gives an inline config, for messages (no such file is written).</summary>
    public static string NameFor(string pipeline, string stage) => $".pipeline/{pipeline}.{stage}.inline-blubber.yaml";

    private static void Write(StringBuilder sb, ConfigValue value, int indent)
    {
        var pad = new string(' ', indent);
        switch (value)
        {
            case ConfigMap m:
                foreach (var e in m.Entries)
                {
                    sb.Append(pad).Append(JsonSerializer.Serialize(e.Key)).Append(':');
                    WriteValue(sb, e.Value, indent);
                }
                break;
            case ConfigList l:
                foreach (var item in l.Items)
                {
                    sb.Append(pad).Append('-');
                    WriteValue(sb, item, indent);
                }
                break;
        }
    }

    private static void WriteValue(StringBuilder sb, ConfigValue value, int indent)
    {
        switch (value)
        {
            case ConfigMap { Entries.Count: > 0 } or ConfigList { Items.Count: > 0 }:
                sb.Append('\n');
                Write(sb, value, indent + 2);
                break;
            case ConfigMap:
                sb.Append(" {}\n");
                break;
            case ConfigList:
                sb.Append(" []\n");
                break;
            case ConfigScalar { Value: null }:
                sb.Append(" null\n");
                break;
            case ConfigScalar { Value: bool or long } scalar:
                sb.Append(' ').Append(scalar.Render()).Append('\n');
                break;
            case ConfigScalar scalar:
                sb.Append(' ').Append(JsonSerializer.Serialize((string)scalar.Value!)).Append('\n');
                break;
            default:
                throw new PipelineConfigException($"`blubberfile` uses `{value.Render()}`, which is known only while the run executes", value.Line);
        }
    }
}
