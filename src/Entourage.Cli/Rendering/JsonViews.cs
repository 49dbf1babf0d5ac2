using System.Text.Json.Nodes;
using Spectre.Console.Rendering;

namespace Entourage.Cli.Rendering;

/// <summary>
/// Renders a JSON object whose exact shape the CLI does not pin (costs breakdowns, turns): scalars as a grid, each
/// array of objects as a table with its fields as columns.
/// </summary>
public static class JsonViews
{
    public static IRenderable Object(JsonObject o)
    {
        var rows = new List<IRenderable>();
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        var scalars = 0;
        foreach (var (key, value) in o)
        {
            if (value is JsonArray array && array.All(x => x is JsonObject))
            {
                if (array.Count > 0) rows.Add(new Rows(new Markup($"[bold]{Styles.Esc(Title(key))}[/]"), Table(array.OfType<JsonObject>())));
            }
            else if (value is JsonObject nested)
            {
                rows.Add(new Rows(new Markup($"[bold]{Styles.Esc(Title(key))}[/]"), Object(nested)));
            }
            else
            {
                grid.AddRow($"[dim]{Styles.Esc(Title(key))}[/]", Styles.Esc(value?.ToString() ?? "–"));
                scalars++;
            }
        }
        if (scalars > 0) rows.Insert(0, grid);
        return new Rows(rows);
    }

    public static Table Table(IEnumerable<JsonObject> items)
    {
        var list = items.ToList();
        var columns = list.SelectMany(i => i.Where(p => p.Value is not JsonArray and not JsonObject).Select(p => p.Key)).Distinct().ToList();
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var c in columns) table.AddColumn(Styles.Esc(Title(c)));
        foreach (var item in list)
            table.AddRow(columns.Select(c => Styles.Esc(item[c]?.ToString() ?? "")).ToArray());
        return table;
    }

    private static string Title(string key) => key.Replace('_', ' ');
}
