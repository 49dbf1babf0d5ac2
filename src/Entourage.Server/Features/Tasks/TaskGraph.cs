namespace Entourage.Server.Features.Tasks;

/// <summary>Pure graph algorithms of the DAG, kept free of storage so they can be property-tested directly.</summary>
public static class TaskGraph
{
    /// <summary>
    /// Nodes that lie on a cycle (including self-loops) of the graph with <paramref name="count"/> nodes, where
    /// <c>edges[i]</c> lists the nodes i depends on. Tarjan's strongly connected components, iterative so a
    /// 500-item chain cannot overflow the stack.
    /// </summary>
    public static SortedSet<int> CycleMembers(int count, IReadOnlyList<IReadOnlyList<int>> edges)
    {
        var index = new int[count];
        var low = new int[count];
        var onStack = new bool[count];
        Array.Fill(index, -1);
        var stack = new Stack<int>();
        var result = new SortedSet<int>();
        var next = 0;

        for (var root = 0; root < count; root++)
        {
            if (index[root] >= 0) continue;
            var work = new Stack<(int Node, int Edge)>();
            work.Push((root, 0));
            index[root] = low[root] = next++;
            stack.Push(root);
            onStack[root] = true;
            while (work.Count > 0)
            {
                var (v, e) = work.Pop();
                var succ = edges[v];
                if (e < succ.Count)
                {
                    work.Push((v, e + 1));
                    var w = succ[e];
                    if (w < 0 || w >= count) continue;
                    if (index[w] < 0)
                    {
                        index[w] = low[w] = next++;
                        stack.Push(w);
                        onStack[w] = true;
                        work.Push((w, 0));
                    }
                    else if (onStack[w]) low[v] = Math.Min(low[v], index[w]);
                    continue;
                }
                // v is finished: propagate its low-link to its parent, and pop its component when it is a root.
                if (work.Count > 0) low[work.Peek().Node] = Math.Min(low[work.Peek().Node], low[v]);
                if (low[v] != index[v]) continue;
                var component = new List<int>();
                int x;
                do
                {
                    x = stack.Pop();
                    onStack[x] = false;
                    component.Add(x);
                } while (x != v);
                if (component.Count > 1 || succ.Contains(v)) result.UnionWith(component);
            }
        }
        return result;
    }

    /// <summary>True when <paramref name="from"/> can reach <paramref name="target"/> by following dependencies.</summary>
    public static bool Reaches(long from, long target, Func<long, IEnumerable<long>> dependenciesOf)
    {
        var seen = new HashSet<long>();
        var stack = new Stack<long>();
        stack.Push(from);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (n == target) return true;
            if (!seen.Add(n)) continue;
            foreach (var d in dependenciesOf(n)) stack.Push(d);
        }
        return false;
    }
}
