using Entourage.Server.Storage;
using Microsoft.AspNetCore.Components;

namespace Entourage.Server.Dashboard.Live;

/// <summary>
/// A view that re-reads its data whenever a relevant change commits. It subscribes to the in-process
/// <see cref="ChangeFeed"/> before its first read (so nothing committed after the read is missed), drains
/// bursts of events into one reload, and never polls.
/// </summary>
public abstract class LiveComponent : ComponentBase, IDisposable
{
    [Inject] protected ChangeFeed Feed { get; set; } = default!;

    private ChangeFeed.Subscription? _subscription;
    private readonly CancellationTokenSource _stop = new();

    protected CancellationToken Stopping => _stop.Token;

    /// <summary>Re-read everything the view shows. Runs on the renderer's context.</summary>
    protected abstract Task LoadAsync(CancellationToken ct);

    /// <summary>Whether an event can change what this view shows (filter by kind and team).</summary>
    protected virtual bool IsRelevant(ChangeEvent change) => true;

    protected override async Task OnParametersSetAsync()
    {
        // Only a live circuit subscribes; the prerender pass just reads once.
        if (_subscription is null && RendererInfo.IsInteractive)
        {
            _subscription = Feed.Subscribe();
            _ = PumpAsync(_subscription);
        }
        await ReloadAsync();
    }

    private async Task ReloadAsync()
    {
        try
        {
            await LoadAsync(_stop.Token);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task PumpAsync(ChangeFeed.Subscription subscription)
    {
        var reader = subscription.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token))
            {
                var relevant = false;
                while (reader.TryRead(out var change)) relevant |= IsRelevant(change);
                if (!relevant) continue;
                await InvokeAsync(async () =>
                {
                    await ReloadAsync();
                    StateHasChanged();
                });
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
            // The circuit went away while a reload was queued.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _subscription?.Dispose();
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
