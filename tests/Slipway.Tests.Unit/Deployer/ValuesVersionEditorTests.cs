using Slipway.Deployer.ChartsChange;

namespace Slipway.Tests.Unit.Deployer;

/// <summary>The one-line <c>main_app.version</c> edit of deployment-charts' update_version.py, on the file shapes real charts have.</summary>
public sealed class ValuesVersionEditorTests
{
    [Theory]
    // A new file, and a file without main_app: the block is added.
    [InlineData(null, "v1", "main_app:\n  version: v1\n")]
    [InlineData("docker:\n  registry: r\n\n", "v1", "docker:\n  registry: r\nmain_app:\n  version: v1\n")]
    // main_app without version: inserted first, at the block's indent.
    [InlineData("main_app:\n    image: foo\n", "v1", "main_app:\n    version: v1\n    image: foo\n")]
    // An existing version: only that line changes, comments elsewhere stay.
    [InlineData("# c\nmain_app:\n  image: foo # i\n  version: old # v\nx: 1\n", "v2", "# c\nmain_app:\n  image: foo # i\n  version: v2\nx: 1\n")]
    // A nested version is not main_app's.
    [InlineData("main_app:\n  limits:\n    version: 9\n", "v1", "main_app:\n  version: v1\n  limits:\n    version: 9\n")]
    // Values YAML would read as something other than a string are quoted.
    [InlineData(null, "1.0", "main_app:\n  version: '1.0'\n")]
    [InlineData(null, "2024-05-01", "main_app:\n  version: '2024-05-01'\n")]
    [InlineData(null, "yes", "main_app:\n  version: 'yes'\n")]
    [InlineData(null, "2024-05-01-101500-production", "main_app:\n  version: 2024-05-01-101500-production\n")]
    public void SetVersion_edits_one_line(string? before, string version, string after) =>
        Assert.Equal(after, ValuesVersionEditor.SetVersion(before, version));

    [Theory]
    [InlineData("main_app: {version: old}\n")]
    [InlineData("main_app: foo\n")]
    [InlineData("- a\n- b\n")]
    [InlineData("main_app:\n  version: old\nx: [\n")]
    public void SetVersion_refuses_files_it_cannot_edit_by_one_line(string before)
    {
        var e = Assert.Throws<ChartsChangeException>(() => ValuesVersionEditor.SetVersion(before, "v1"));
        Assert.True(e.Permanent);
    }

    [Theory]
    [InlineData("main_app:\n  version: old\n", null)]
    [InlineData("# only a comment\nmain_app:\n  version: old\n", null)]
    [InlineData("main_app:\n  version: old\n  limits:\n    cpu: 1\n", "main_app:\n  limits:\n    cpu: 1\n")]
    [InlineData("main_app:\n  version: old\nresources:\n  replicas: 2\n", "resources:\n  replicas: 2\n")]
    [InlineData("resources:\n  replicas: 2\n", "resources:\n  replicas: 2\n")]
    public void RemoveVersion_drops_the_pin_and_whatever_it_emptied(string before, string? after) =>
        Assert.Equal(after, ValuesVersionEditor.RemoveVersion(before));

    [Theory]
    [InlineData("citoid", true)]
    [InlineData("mw-api-int.v2_x", true)]
    [InlineData("..", false)]
    [InlineData("a..b", false)]
    [InlineData("../etc", false)]
    [InlineData("a/b", false)]
    [InlineData("-rf", false)]
    [InlineData("", false)]
    public void Chart_names_are_one_plain_segment(string chart, bool ok) => Assert.Equal(ok, ChartsPaths.IsChartName(chart));

    [Theory]
    [InlineData("helmfile.d/services/{chart}/values.yaml", null)]
    [InlineData("/etc/{chart}", "must be a relative path")]
    [InlineData("a/../{chart}", "must not contain")]
    [InlineData(".git/hooks/{chart}", "must not contain")]
    [InlineData("values.yaml", "must contain {chart}")]
    [InlineData("{chart}/{other}.yaml", "may contain only")]
    public void Operator_path_templates_are_checked(string template, string? error)
    {
        var found = ChartsPaths.TemplateError(template, ["{chart}"]);
        if (error is null) Assert.Null(found);
        else Assert.Contains(error, found);
    }
}
