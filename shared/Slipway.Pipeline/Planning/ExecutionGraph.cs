namespace Slipway.Pipeline.Planning;

/// <summary>
/// PipelineLib's <c>ExecutionGraph</c>: the union of a pipeline's execution arcs as one directed graph, with
/// <see cref="Stack"/> yielding frames in topological order (roots first, then each node once all its
/// predecessors ran). Nodes keep the order they were first named in.
/// </summary>
public sealed class ExecutionGraph
{
    private readonly List<string> _nodes = [];
    private readonly Dictionary<string, List<string>> _out = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _in = new(StringComparer.Ordinal);

    /// <summary><c>[a, b, c]</c> adds a→b and b→c; a one-element arc adds an isolated node.</summary>
    public static ExecutionGraph FromArcs(IEnumerable<IReadOnlyList<string>> arcs)
    {
        var g = new ExecutionGraph();
        foreach (var arc in arcs)
        {
            for (var i = 0; i < arc.Count; i++)
            {
                g.Add(arc[i]);
                if (i > 0) g.Link(arc[i - 1], arc[i]);
            }
        }
        return g;
    }

    public IReadOnlyList<string> Nodes => _nodes;

    public IReadOnlyList<string> Predecessors(string node) => _in.TryGetValue(node, out var p) ? p : [];

    public bool Contains(string node) => _out.ContainsKey(node);

    /// <summary>Every node with a path to <paramref name="node"/>.</summary>
    public IReadOnlySet<string> Ancestors(string node)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(Predecessors(node));
        while (pending.Count > 0)
        {
            var n = pending.Pop();
            if (seen.Add(n)) foreach (var p in Predecessors(n)) pending.Push(p);
        }
        return seen;
    }

    /// <summary>The frames in topological order; a cycle is refused with PipelineLib's message.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Stack()
    {
        var frames = new List<IReadOnlyList<string>>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        var frame = _nodes.Where(n => Predecessors(n).Count == 0).ToList();
        while (frame.Count > 0)
        {
            frames.Add(frame);
            done.UnionWith(frame);
            frame = _nodes.Where(n => !done.Contains(n) && Predecessors(n).All(done.Contains)).ToList();
        }
        if (done.Count != _nodes.Count) throw new PipelineConfigException($"cycle detected in graph ({ToString()})");
        return frames;
    }

    /// <summary>The graph in Graphviz dot form, as PipelineLib prints it in messages.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        foreach (var n in _nodes)
        {
            if (_out[n].Count == 0 && Predecessors(n).Count == 0) parts.Add(n);
            parts.AddRange(_out[n].Select(t => $"{n} -> {t}"));
        }
        return "digraph { " + string.Join("; ", parts) + " }";
    }

    private void Add(string n)
    {
        if (_out.ContainsKey(n)) return;
        _nodes.Add(n);
        _out[n] = [];
        _in[n] = [];
    }

    private void Link(string from, string to)
    {
        if (!_out[from].Contains(to)) _out[from].Add(to);
        if (!_in[to].Contains(from)) _in[to].Add(from);
    }
}
