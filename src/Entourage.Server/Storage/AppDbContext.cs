using Entourage.Client.Contracts;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Entourage.Server.Storage;

/// <summary>
/// The one EF model of Entourage. Each provider has a thin subclass (<see cref="SqliteDbContext"/>,
/// <see cref="PostgresDbContext"/>) only so that each gets its own migration set (bitwarden/server's pattern).
/// </summary>
public abstract class AppDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<Org> Orgs => Set<Org>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Team> Teams => Set<Team>();
    public DbSet<Agent> Agents => Set<Agent>();
    public DbSet<TaskItem> Tasks => Set<TaskItem>();
    public DbSet<TaskDependency> TaskDependencies => Set<TaskDependency>();
    public DbSet<TaskEvent> TaskEvents => Set<TaskEvent>();
    public DbSet<Message> Messages => Set<Message>();
    public DbSet<DispatchRequest> DispatchRequests => Set<DispatchRequest>();
    public DbSet<Turn> Turns => Set<Turn>();
    public DbSet<UsageRecord> UsageRecords => Set<UsageRecord>();
    public DbSet<HumanRequest> HumanRequests => Set<HumanRequest>();
    public DbSet<Review> Reviews => Set<Review>();
    public DbSet<ReviewComment> ReviewComments => Set<ReviewComment>();
    public DbSet<MergeQueueItem> MergeQueue => Set<MergeQueueItem>();
    public DbSet<TaskWait> TaskWaits => Set<TaskWait>();
    public DbSet<Node> Nodes => Set<Node>();
    public DbSet<RunnerToken> RunnerTokens => Set<RunnerToken>();
    public DbSet<Plan> Plans => Set<Plan>();

    /// <summary>True on PostgreSQL; hot-path raw SQL picks its dialect from this.</summary>
    /// <remarks>
    /// Kept once known: EF's provider name is read from the provider assembly's name (reflection) on every call, and a
    /// status change asks a dozen times (~2 % of its CPU on SQLite, in a trace of the dispatch benchmark).
    /// </remarks>
    public bool IsPostgres => _isPostgres ??= Database.ProviderName?.Contains("Npgsql", StringComparison.Ordinal) == true;

    private bool? _isPostgres;

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite hands DateTime back as Unspecified; everything we store is UTC, so say so on the way out.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<TaskState>().HaveConversion<SnakeEnumConverter<TaskState>>();
        configurationBuilder.Properties<TaskPriority>().HaveConversion<SnakeEnumConverter<TaskPriority>>();
        configurationBuilder.Properties<TaskType>().HaveConversion<SnakeEnumConverter<TaskType>>();
        configurationBuilder.Properties<AgentRole>().HaveConversion<SnakeEnumConverter<AgentRole>>();
        configurationBuilder.Properties<ActorType>().HaveConversion<SnakeEnumConverter<ActorType>>();
        configurationBuilder.Properties<DispatchReason>().HaveConversion<SnakeEnumConverter<DispatchReason>>();
        configurationBuilder.Properties<DispatchState>().HaveConversion<SnakeEnumConverter<DispatchState>>();
        configurationBuilder.Properties<TurnState>().HaveConversion<SnakeEnumConverter<TurnState>>();
        configurationBuilder.Properties<HumanRequestKind>().HaveConversion<SnakeEnumConverter<HumanRequestKind>>();
        configurationBuilder.Properties<HumanRequestStatus>().HaveConversion<SnakeEnumConverter<HumanRequestStatus>>();
        configurationBuilder.Properties<ReviewState>().HaveConversion<SnakeEnumConverter<ReviewState>>();
        configurationBuilder.Properties<MergeState>().HaveConversion<SnakeEnumConverter<MergeState>>();
        configurationBuilder.Properties<PlanState>().HaveConversion<SnakeEnumConverter<PlanState>>();
    }

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<Org>(e =>
        {
            e.HasIndex(x => x.Slug).IsUnique();
            Text(e.Property(x => x.Name), 200);
            Text(e.Property(x => x.Slug), 100);
        });
        b.Entity<ApiKey>(e =>
        {
            e.HasIndex(x => x.Hash).IsUnique();
            e.HasOne<Org>().WithMany().HasForeignKey(x => x.OrgId).OnDelete(DeleteBehavior.Cascade);
        });
        b.Entity<Team>(e =>
        {
            e.HasIndex(x => new { x.OrgId, x.Slug }).IsUnique();
            e.HasOne<Org>().WithMany().HasForeignKey(x => x.OrgId).OnDelete(DeleteBehavior.Cascade);
            Text(e.Property(x => x.Name), 200);
            Text(e.Property(x => x.Slug), 100);
        });
        b.Entity<Agent>(e =>
        {
            e.HasIndex(x => new { x.TeamId, x.Name }).IsUnique();
            e.HasIndex(x => x.TokenHash).IsUnique();
            e.HasOne<Team>().WithMany().HasForeignKey(x => x.TeamId).OnDelete(DeleteBehavior.Cascade);
            Text(e.Property(x => x.Name), 100);
        });
        b.Entity<TaskItem>(e =>
        {
            e.ToTable("tasks");
            e.HasIndex(x => new { x.TeamId, x.Status });
            // An agent's latest task in progress (every claim's gate and the turn's task: status = in_progress, newest
            // started_at first) is one index entry, not a read and sort of all its tasks; a prefix for the rest.
            e.HasIndex(x => new { x.AssigneeId, x.Status, x.StartedAt });
            e.HasIndex(x => x.ParentId);
            e.HasIndex(x => x.PlanId);
            e.Property(x => x.Version).IsConcurrencyToken();
            e.HasOne<Team>().WithMany().HasForeignKey(x => x.TeamId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<TaskItem>().WithMany().HasForeignKey(x => x.ParentId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<Agent>().WithMany().HasForeignKey(x => x.AssigneeId).OnDelete(DeleteBehavior.SetNull);
            Text(e.Property(x => x.Title), 500);
        });
        b.Entity<TaskDependency>(e =>
        {
            e.HasKey(x => new { x.TaskId, x.DependsOnId });
            e.HasIndex(x => x.DependsOnId);
            e.HasOne<TaskItem>().WithMany().HasForeignKey(x => x.TaskId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<TaskItem>().WithMany().HasForeignKey(x => x.DependsOnId).OnDelete(DeleteBehavior.Restrict);
        });
        b.Entity<TaskEvent>(e =>
        {
            e.HasIndex(x => new { x.TaskId, x.Id });
            e.HasIndex(x => new { x.TeamId, x.Id });
            e.HasOne<TaskItem>().WithMany().HasForeignKey(x => x.TaskId).OnDelete(DeleteBehavior.Cascade);
        });
        b.Entity<Message>(e =>
        {
            e.HasIndex(x => new { x.RecipientId, x.ReadAt });
            e.HasIndex(x => new { x.TeamId, x.Id });
            e.HasIndex(x => x.TaskId);
            e.HasOne<Team>().WithMany().HasForeignKey(x => x.TeamId).OnDelete(DeleteBehavior.Cascade);
        });
        b.Entity<DispatchRequest>(e =>
        {
            e.HasIndex(x => new { x.State, x.AgentId });
            e.HasIndex(x => new { x.AgentId, x.State });
            e.HasIndex(x => x.TurnId);
        });
        b.Entity<Turn>(e =>
        {
            // The store itself guarantees one running turn per agent, whichever node claims it.
            e.HasIndex(x => x.AgentId).IsUnique().HasFilter("state = 'running'").HasDatabaseName("ux_turns_one_running_per_agent");
            e.HasIndex(x => new { x.AgentId, x.StartedAt });
            e.HasIndex(x => new { x.State, x.LeaseUntil });
            e.HasIndex(x => x.TaskId);
            e.HasIndex(x => x.TokenHash);
        });
        b.Entity<UsageRecord>(e =>
        {
            e.HasIndex(x => new { x.TeamId, x.Day });
            e.HasIndex(x => x.TaskId);
        });
        b.Entity<HumanRequest>(e =>
        {
            e.HasIndex(x => new { x.Status, x.CreatedAt });
            e.HasIndex(x => x.TeamId);
        });
        b.Entity<Review>(e => e.HasIndex(x => x.TaskId));
        b.Entity<ReviewComment>(e =>
        {
            e.HasIndex(x => x.ReviewId);
            e.HasOne<Review>().WithMany().HasForeignKey(x => x.ReviewId).OnDelete(DeleteBehavior.Cascade);
        });
        b.Entity<MergeQueueItem>(e =>
        {
            e.ToTable("merge_queue");
            e.HasIndex(x => new { x.State, x.Id });
            e.HasIndex(x => x.TaskId);
        });
        b.Entity<TaskWait>(e =>
        {
            e.HasIndex(x => new { x.AgentId, x.CompletedAt });
            // Every change of a task to a terminal state reads its team's open waits (DagEffects.SettledSql); waits
            // are kept once completed, so without this that read scanned every wait the server ever had.
            e.HasIndex(x => new { x.TeamId, x.CompletedAt });
        });
        b.Entity<Node>(e => e.HasKey(x => x.Id));
        b.Entity<RunnerToken>(e =>
        {
            e.HasIndex(x => x.Hash).IsUnique();
            Text(e.Property(x => x.Name), 100);
        });
        b.Entity<Plan>(e =>
        {
            e.HasIndex(x => new { x.TeamId, x.State });
            e.HasOne<Team>().WithMany().HasForeignKey(x => x.TeamId).OnDelete(DeleteBehavior.Cascade);
        });
    }

    private static void Text(PropertyBuilder<string> p, int max) => p.HasMaxLength(max);

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        BumpTaskVersions();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        BumpTaskVersions();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    // Every modified task gets a new version, so a concurrent writer holding the old one fails instead of
    // silently overwriting a transition (EF checks the original value in the UPDATE's WHERE clause).
    private void BumpTaskVersions()
    {
        foreach (var entry in ChangeTracker.Entries<TaskItem>())
        {
            if (entry.State == EntityState.Modified)
                entry.Entity.Version++;
        }
    }
}

/// <summary>Reads every DateTime back as UTC.</summary>
internal sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
    v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
    v => DateTime.SpecifyKind(v, DateTimeKind.Utc));

/// <summary>Stores enums as the same lower snake_case strings the JSON API uses.</summary>
internal sealed class SnakeEnumConverter<T>() : ValueConverter<T, string>(
    v => EnumNames.ToSnake(v),
    v => EnumNames.Parse<T>(v)) where T : struct, Enum;
