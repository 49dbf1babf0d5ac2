namespace Entourage.Server.Merging;

/// <summary>The merge queue (issue #6): lands approved tasks on their base branch, one at a time.</summary>
public static class MergingRegistration
{
    public static IServiceCollection AddEntourageMerging(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<MergeOptions>().Bind(config.GetSection("Merging"));
        services.AddSingleton<MergeWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<MergeWorker>());
        return services;
    }
}
