namespace Entourage.Server.Features;

/// <summary>The REST API under /api/v1. Each resource folder maps its own group here.</summary>
public static class FeatureRegistration
{
    public static IServiceCollection AddEntourageFeatures(this IServiceCollection services, IConfiguration config)
    {
        services.AddScoped<Agents.AgentViews>();
        HumanRequests.HumanRequestsRegistration.AddHumanRequests(services);
        services.AddSingleton<Tasks.TaskWaiter>();
        Merging.MergingRegistration.AddEntourageMerging(services, config);
        return services;
    }

    public static WebApplication MapEntourageApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/v1");
        Orgs.OrgEndpoints.Map(api);
        Turns.TurnEndpoints.Map(api);
        Costs.CostEndpoints.Map(api);
        Teams.TeamEndpoints.Map(api);
        Prompts.PromptEndpoints.Map(api);
        Agents.AgentTokenEndpoints.Map(api);
        ApiKeys.ApiKeyEndpoints.Map(api);
        Agents.AgentEndpoints.Map(api);
        Tasks.TaskEndpoints.Map(api);
        Events.TaskEventsEndpoint.Map(api);
        Messages.MessageEndpoints.Map(api);
        HumanRequests.HumanRequestEndpoints.Map(api);
        Tasks.WaitEndpoint.Map(api);
        Settings.TeamSettingsEndpoints.Map(api);
        Reviews.ReviewEndpoints.Map(api);
        Plans.PlanEndpoints.Map(api);
        Nodes.NodeEndpoints.Map(api);
        RunnerTokens.RunnerTokenEndpoints.Map(api);
        RunnerProtocol.RunnerProtocolEndpoints.Map(api);
        return app;
    }
}
