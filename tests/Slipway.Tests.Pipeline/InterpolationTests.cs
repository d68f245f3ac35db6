using Slipway.Pipeline.Planning;

namespace Slipway.Tests.Pipeline;

public class InterpolationTests
{
    // setup binds a few values; stage `a` precedes `b`; `c` is parallel to `b`.
    private static (Interpolator B, Interpolator C) Make()
    {
        var store = new BindingStore();
        store.Bind("setup", "project", new ConfigScalar("mediawiki/services/foo", 0));
        store.Bind("setup", "params.ZUUL_CHANGE", new ConfigScalar("1234", 0));
        store.Bind("setup", "empty", new ConfigScalar("", 0));
        store.Bind("a", "stage", new ConfigScalar("a", 0));
        store.Bind("a", "list", new ConfigList([new ConfigScalar("x", 0), new ConfigScalar("y", 0)], 0));
        store.Bind("a", "lines", new ConfigScalar("1\n2\n\n3\n", 0));
        store.Bind("a", "pairs", new ConfigScalar("k1 v1,k2 v2", 0));
        store.BindRuntime("a", "output");
        store.Bind("a-stage", "foo-value", new ConfigScalar("dashed", 0));
        store.Bind("b", "stage", new ConfigScalar("b", 0));
        store.Bind("b", "own", new ConfigScalar("mine", 0));
        var graph = ExecutionGraph.FromArcs([["a-stage", "a", "b"], ["a", "c"]]);
        return (new Interpolator(store, graph, "b"), new Interpolator(store, graph, "c"));
    }

    private static string S(string text) => Make().B.InterpolateString(text).Render();

    private static ConfigValue Yaml(string yaml) => ConfigYamlReader.Load(yaml, "t.yaml");

    [Theory]
    [InlineData("${setup.project}", "mediawiki/services/foo")]
    [InlineData("pre-${setup.project}-post", "pre-mediawiki/services/foo-post")]
    [InlineData("${setup.params.ZUUL_CHANGE}", "1234")]
    [InlineData("${.own}", "mine")]
    [InlineData("${b.own}", "mine")]
    [InlineData("${a-stage.foo-value}", "dashed")]
    [InlineData("${.missing|fallback}", "fallback")]
    [InlineData("${setup.empty|used-when-falsy}", "used-when-falsy")]
    [InlineData("${.missing|}", "")]
    [InlineData("${FOO} and ${bar|x}", "${FOO} and ${bar|x}")]
    [InlineData("$HOME costs $5", "$HOME costs $5")]
    [InlineData("${a.list}", "[x, y]")]
    public void Expressions(string text, string expected) => Assert.Equal(expected, S(text));

    [Fact]
    public void Whole_reference_keeps_the_bound_type()
    {
        var v = Make().B.InterpolateString("${a.list}");
        Assert.IsType<ConfigList>(v);
    }

    [Fact]
    public void Unknown_variable_lists_what_is_available()
    {
        var e = Assert.Throws<PipelineConfigException>(() => S("${setup.nope}"));
        Assert.Equal("no value bound for 'setup.nope'; all available variables are: [setup.project, setup.params.ZUUL_CHANGE, setup.empty, "
            + "a-stage.foo-value, a.stage, a.list, a.lines, a.pairs, a.output, b.stage, b.own]", e.Message);
    }

    [Fact]
    public void Only_ancestors_can_be_read()
    {
        var e = Assert.Throws<PipelineConfigException>(() => Make().C.InterpolateString("${b.own}"));
        Assert.Equal("cannot access 'b.*' values since 'c' does not follow it in the graph 'digraph { a-stage -> a; a -> b; a -> c }'", e.Message);
    }

    [Theory]
    [InlineData("${setup.project", "missing end delimiter `}`")]
    [InlineData("x ${} y", "name is missing")]
    [InlineData("${FOO:-bar}", "invalid character following name")]
    public void Malformed_expressions(string text, string reason)
    {
        var e = Assert.Throws<PipelineConfigException>(() => S(text));
        Assert.Equal($"invalid variable expression ({reason}): {text}", e.Message);
    }

    [Fact]
    public void Runtime_values_in_text_make_a_template_of_text_and_references()
    {
        var t = Assert.IsType<ConfigTemplate>(Make().B.InterpolateString("out: ${a.output} (${a.stage})"));
        Assert.Equal(new ConfigValue[] { new ConfigScalar("out: ", 0), new ConfigRuntime("a", "output", 0), new ConfigScalar(" (a)", 0) }, t.Parts);
        Assert.Equal("out: ${a.output} (a)", t.Render());
        Assert.IsType<ConfigRuntime>(Make().B.InterpolateString("${a.output}"));
        Assert.Equal(new ConfigRuntime("a", "output", 0, "none"), Make().B.InterpolateString("${a.output|none}"));
    }

    [Fact]
    public void Recurses_through_lists_and_maps_including_keys()
    {
        var v = (ConfigMap)Make().B.Interpolate(Yaml("'${.own}-key': ['${setup.params.ZUUL_CHANGE}', true, 3]"));
        var entry = Assert.Single(v.Entries);
        Assert.Equal("mine-key", entry.Key);
        Assert.Equal("[1234, true, 3]", entry.Value.Render());
    }

    [Fact]
    public void List_comprehension_over_lines()
    {
        var v = Make().B.Interpolate(Yaml("{$each: n, $in: '${a.lines}', $yield: '${.n}*${.n}'}"));
        Assert.Equal("[1*1, 2*2, 3*3]", v.Render());
    }

    [Fact]
    public void List_comprehension_default_yield_delimiters_and_destructuring()
    {
        var b = Make().B;
        Assert.Equal("[1, 2, 3]", b.Interpolate(Yaml("{$each: n, $in: '${a.lines}'}")).Render());
        Assert.Equal("[k1=v1, k2=v2]", b.Interpolate(Yaml("{$each: [k, v], $in: '${a.pairs}', $delimiter: ',', $yield: '${.k}=${.v}'}")).Render());
        Assert.Equal("[a, b, c]", b.Interpolate(Yaml("{$each: x, $in: 'a;b c', $delimiter: '; '}")).Render());
        Assert.Equal("[x!, y!]", b.Interpolate(Yaml("{$each: i, $in: '${a.list}', $yield: '${.i}!'}")).Render());
        var e = Assert.Throws<PipelineConfigException>(() => b.Interpolate(Yaml("{$each: [k, v, w], $in: 'k1 v1'}")));
        Assert.Equal("insufficient number of values given ([k1, v1]) to bind to variables ([k, v, w])", e.Message);
    }

    [Fact]
    public void List_comprehension_over_runtime_output_is_not_plannable()
    {
        var e = Assert.Throws<RuntimeReferenceException>(() => Make().B.Interpolate(Yaml("{$each: n, $in: '${a.output}'}")));
        Assert.Equal("a.output", e.Reference);
    }

    [Fact]
    public void Merge_expressions()
    {
        var b = Make().B;
        Assert.Equal("[x, y, x, z]", b.Interpolate(Yaml("{$merge: '${a.list}', $with: [x, z]}")).Render());
        Assert.Equal("[a:1, b:3, c:4]", b.Interpolate(Yaml("{$merge: {a: 1, b: 2}, $with: {b: 3, c: 4}}")).Render());
        Assert.Equal("mine-suffix", b.Interpolate(Yaml("{$merge: '${.own}', $with: '-suffix'}")).Render());
    }

    [Fact]
    public void Nested_comprehensions_hit_the_budget()
    {
        var limits = new PipelineConfigLimits { MaxNodes = 10_000 };
        var store = new BindingStore();
        store.Bind("s", "many", new ConfigScalar(string.Join("\n", Enumerable.Range(0, 900)), 0));
        var i = new Interpolator(store, ExecutionGraph.FromArcs([["s"]]), "s", limits);
        var yaml = Yaml("{$each: a, $in: '${s.many}', $yield: {$each: b, $in: '${s.many}', $yield: '${.a}${.b}'}}");
        Assert.Throws<PipelineConfigException>(() => i.Interpolate(yaml));
    }
}
