using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Entourage.Dashboard.Tests.Components;

/// <summary>bUnit context with MudBlazor's services; its JS calls are answered loosely (no browser here).</summary>
public abstract class ComponentTestBase : BunitContext
{
    protected ComponentTestBase()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
    }
}
