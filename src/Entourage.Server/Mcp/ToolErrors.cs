using System.Text;
using System.Text.Json;
using Entourage.Server.Hosting;
using Microsoft.EntityFrameworkCore;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Entourage.Server.Mcp;

/// <summary>
/// Turns domain errors into tool results with isError set and a text that tells the model what to do next,
/// instead of the SDK's opaque "An error occurred invoking …". Unexpected faults stay opaque (and are logged).
/// </summary>
public static class ToolErrors
{
    public static McpRequestHandler<CallToolRequestParams, CallToolResult> Filter(McpRequestHandler<CallToolRequestParams, CallToolResult> next) =>
        async (request, ct) =>
        {
            try
            {
                return await next(request, ct);
            }
            catch (ApiProblem p)
            {
                return Error(Describe(p));
            }
            catch (DbUpdateConcurrencyException)
            {
                return Error("The task changed while this call was applied (another agent or a person updated it). Read it again with get_task and retry if still needed.");
            }
            catch (JsonException e)
            {
                return Error($"An argument is not valid JSON for this tool: {e.Message} Check the tool's input schema and call it again.");
            }
            catch (ArgumentException e) when (e is not ArgumentNullException || e.ParamName is not null)
            {
                return Error($"Invalid arguments: {e.Message} Check the tool's input schema (names are snake_case) and call it again.");
            }
        };

    public static CallToolResult Error(string text) => new() { IsError = true, Content = [new TextContentBlock { Text = text }] };

    public static string Describe(ApiProblem p)
    {
        var sb = new StringBuilder(p.Detail);
        if (p.Errors is { Count: > 0 } errors && !errors.All(e => p.Detail.Contains(e.Key, StringComparison.Ordinal)))
        {
            sb.Append(" Problems:");
            foreach (var (field, messages) in errors) sb.Append(' ').Append(field).Append(": ").Append(string.Join(" ", messages));
        }
        return sb.ToString();
    }
}
