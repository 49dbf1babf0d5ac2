namespace Entourage.Client.Contracts;

/// <summary>A role's prompt template for a team: its own override, or the built-in default.</summary>
public sealed record RolePromptDto(
    AgentRole Role,
    string Template,
    bool IsDefault,
    string DefaultTemplate,
    IReadOnlyDictionary<string, string> Placeholders);

/// <summary>PUT /teams/{team_id}/prompts/{role}: the new template ({{placeholders}} allowed).</summary>
public sealed record SetRolePromptRequest(string? Template);
