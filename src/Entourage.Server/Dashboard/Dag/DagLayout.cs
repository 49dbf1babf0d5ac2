using System.Globalization;
using Entourage.Server.Dashboard.Data;
using GraphShape.Algorithms.Layout;
using QuikGraph;
using GsPoint = GraphShape.Point;
using GsSize = GraphShape.Size;

namespace Entourage.Server.Dashboard.Dag;

public sealed record DagNode(TaskCard Task, double X, double Y, double Width, double Height);

public sealed record DagEdge(long From, long To, string Path);

public sealed record DagPicture(IReadOnlyList<DagNode> Nodes, IReadOnlyList<DagEdge> Edges, double Width, double Height);

/// <summary>
/// Lays a task DAG out in layers with GraphShape's Sugiyama algorithm (a dependency above its dependents) and
/// turns the result into SVG coordinates: node rectangles plus one path per edge, routed by the algorithm.
/// </summary>
public static class DagLayout
{
    public const double NodeWidth = 200;
    public const double NodeHeight = 54;
    private const double Margin = 16;

    public static DagPicture Compute(IReadOnlyList<TaskCard> tasks)
    {
        if (tasks.Count == 0) return new DagPicture([], [], 0, 0);
        // GraphShape wants reference-type vertices: the task card itself.
        var graph = new BidirectionalGraph<TaskCard, Edge<TaskCard>>();
        foreach (var t in tasks) graph.AddVertex(t);
        var byId = tasks.ToDictionary(t => t.Id);
        foreach (var t in tasks)
            foreach (var dep in t.DependsOn)
                if (byId.TryGetValue(dep, out var d)) graph.AddEdge(new Edge<TaskCard>(d, t));

        var sizes = tasks.ToDictionary(t => t, _ => new GsSize(NodeWidth, NodeHeight));
        var parameters = new SugiyamaLayoutParameters
        {
            Direction = LayoutDirection.TopToBottom,
            LayerGap = 48,
            SliceGap = 24,
            EdgeRouting = SugiyamaEdgeRouting.Traditional,
            OptimizeWidth = false,
        };
        var algorithm = new SugiyamaLayoutAlgorithm<TaskCard, Edge<TaskCard>, BidirectionalGraph<TaskCard, Edge<TaskCard>>>(graph, sizes, parameters);
        algorithm.Compute();

        // GraphShape gives vertex centres, possibly negative; shift everything into the positive quadrant.
        var centres = algorithm.VerticesPositions;
        var minX = centres.Values.Min(p => p.X) - NodeWidth / 2;
        var minY = centres.Values.Min(p => p.Y) - NodeHeight / 2;
        double Sx(double x) => x - minX + Margin;
        double Sy(double y) => y - minY + Margin;

        var nodes = centres.Select(kv => new DagNode(kv.Key, Sx(kv.Value.X) - NodeWidth / 2, Sy(kv.Value.Y) - NodeHeight / 2, NodeWidth, NodeHeight))
            .OrderBy(n => n.Y).ThenBy(n => n.X).ToList();

        var edges = new List<DagEdge>();
        foreach (var e in graph.Edges)
        {
            var from = centres[e.Source];
            var to = centres[e.Target];
            var points = new List<GsPoint> { new(from.X, from.Y + NodeHeight / 2) };
            if (algorithm.EdgeRoutes.TryGetValue(e, out var route) && route is not null) points.AddRange(route);
            points.Add(new GsPoint(to.X, to.Y - NodeHeight / 2));
            edges.Add(new DagEdge(e.Source.Id, e.Target.Id, "M " + string.Join(" L ", points.Select(p => $"{F(Sx(p.X))} {F(Sy(p.Y))}"))));
        }

        var width = nodes.Max(n => n.X + n.Width) + Margin;
        var height = nodes.Max(n => n.Y + n.Height) + Margin;
        return new DagPicture(nodes, edges, width, height);
    }

    private static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
}
