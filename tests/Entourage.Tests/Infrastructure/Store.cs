namespace Entourage.Tests.Infrastructure;

/// <summary>The two storage providers every contract suite runs against.</summary>
public enum Store { Sqlite, Postgres }
