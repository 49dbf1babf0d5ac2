using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Entourage.Server.Storage;

/// <summary>
/// A compiled EF query per model. A compiled query is bound to the model it first ran against, and SQLite and
/// PostgreSQL contexts have a model each (tests run both in one process), so each model gets its own copy.
/// </summary>
public sealed class PerModel<TQuery>(Func<TQuery> compile) where TQuery : class
{
    private readonly ConcurrentDictionary<IModel, TQuery> _byModel = new();

    public TQuery For(DbContext db) => _byModel.GetOrAdd(db.Model, _ => compile());
}
