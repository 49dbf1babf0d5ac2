namespace Entourage.Server.Dispatch;

/// <summary>Dispatcher settings, bound from configuration section "Dispatch" (DESIGN §4).</summary>
public sealed class DispatchOptions
{
    /// <summary>Fallback poll when no doorbell rings (a missed NOTIFY, a dropped LISTEN connection).</summary>
    public double PollSeconds { get; set; } = 2;

    /// <summary>This node's semaphore: turns it runs at once (a runner's --concurrency).</summary>
    public int MaxConcurrentAgents { get; set; } = 32;

    /// <summary>
    /// Cluster-wide cap on running turns over all nodes sharing the database, checked in the claim under one
    /// advisory lock (PostgreSQL). Null: only each node's own <see cref="MaxConcurrentAgents"/> applies. Give every
    /// node the same value.
    /// </summary>
    public int? GlobalMaxConcurrentAgents { get; set; }

    /// <summary>server | runner: what this node is, shown by GET /nodes.</summary>
    public string Role { get; set; } = "server";

    /// <summary>
    /// PostgreSQL: this node's name across restarts (see <see cref="StableNodeName"/>; default from host, role, data
    /// directory and database). The live process holding it may return its crashed predecessor's turns at once.
    /// </summary>
    public string? NodeName { get; set; }

    /// <summary>Comma-separated labels this node offers ("gpu,eu-west"); work pinned by runner_labels needs all of them.</summary>
    public string? Labels { get; set; }

    public double HeartbeatSeconds { get; set; } = 10;

    /// <summary>A running turn whose lease is not renewed for this long belongs to a dead node and is retried.</summary>
    public double LeaseSeconds { get; set; } = 30;

    /// <summary>Runs of the same work before it is given up (the task then fails with the reason).</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Soft stop: how long running turns may finish before their process trees are killed.</summary>
    public double ShutdownTimeoutSeconds { get; set; } = 10;

    /// <summary>How often a turn's buffered output is appended to its log.</summary>
    public int LogFlushMilliseconds { get; set; } = 250;

    /// <summary>Turn logs are capped (the tail is kept on disk by the CLI anyway).</summary>
    public int MaxLogChars { get; set; } = 2_000_000;

    /// <summary>URL agents use to reach this server (ENTOURAGE_URL, MCP config). Default: the first bound address.</summary>
    public string? ServerUrl { get; set; }

    /// <summary>Switch the dispatcher off on this node (an API-only node; `--no-local-agents` when runners do the work).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>USD per million tokens by model, for CLIs that report tokens but not cost (Codex).</summary>
    public Dictionary<string, ModelPrice> Prices { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["gpt-5"] = new() { InputPerMTok = 1.25, CachedInputPerMTok = 0.125, OutputPerMTok = 10 },
        ["gpt-5-codex"] = new() { InputPerMTok = 1.25, CachedInputPerMTok = 0.125, OutputPerMTok = 10 },
        ["gpt-5-mini"] = new() { InputPerMTok = 0.25, CachedInputPerMTok = 0.025, OutputPerMTok = 2 },
        ["o4-mini"] = new() { InputPerMTok = 1.1, CachedInputPerMTok = 0.275, OutputPerMTok = 4.4 },
        ["gemini-2.5-pro"] = new() { InputPerMTok = 1.25, CachedInputPerMTok = 0.31, OutputPerMTok = 10 },
        ["gemini-2.5-flash"] = new() { InputPerMTok = 0.3, CachedInputPerMTok = 0.075, OutputPerMTok = 2.5 },
    };

    public TimeSpan Poll => TimeSpan.FromSeconds(Math.Max(0.05, PollSeconds));
    public TimeSpan Heartbeat => TimeSpan.FromSeconds(Math.Max(0.1, HeartbeatSeconds));
    public TimeSpan Lease => TimeSpan.FromSeconds(Math.Max(0.5, LeaseSeconds));
}

public sealed class ModelPrice
{
    public double InputPerMTok { get; set; }
    public double CachedInputPerMTok { get; set; }
    public double OutputPerMTok { get; set; }
}
