using System.Collections.Concurrent;
using Entourage.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Entourage.Tests.Faults;

/// <summary>
/// Collects the errors an in-process server logs (unhandled exceptions behind a 500 among them), so a failing
/// fuzz or model step can show the server-side cause next to the request that caused it.
/// </summary>
public sealed class ServerErrorLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _errors = new();

    public static ServerErrorLog Attach(TestServer server)
    {
        var log = new ServerErrorLog();
        server.Services.GetRequiredService<ILoggerFactory>().AddProvider(log);
        return log;
    }

    /// <summary>Errors logged since the last call.</summary>
    public string Drain()
    {
        var lines = new List<string>();
        while (_errors.TryDequeue(out var e)) lines.Add(e);
        return string.Join("\n", lines);
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(ServerErrorLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel < LogLevel.Error) return;
            owner._errors.Enqueue($"[{logLevel}] {category}: {formatter(state, exception)}{(exception is null ? "" : "\n" + exception)}");
            while (owner._errors.Count > 50) owner._errors.TryDequeue(out _);
        }
    }
}
