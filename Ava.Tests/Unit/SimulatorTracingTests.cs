using System.Diagnostics;
using System.Net.Http.Json;
using Ava.AppHost.WhatsApp;
using Ava.WhatsAppSimulator;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using OpenTelemetry.Trace;

namespace Ava.Tests.Unit;

/// <summary>
/// The simulator in process, exporting its traces to memory: the chat page's polling every second stays out of the
/// dashboard's Traces view, and what a person or a test does through the simulator stays in.
/// </summary>
[Collection(InProcessTracingCollection.Name)]
public sealed class SimulatorTracingTests : IAsyncLifetime
{
    private readonly List<Activity> _exported = [];
    private WebApplicationFactory<GraphApiState>? _simulator;

    private WebApplicationFactory<GraphApiState> Simulator => _simulator ?? throw new InvalidOperationException("Not started.");

    public ValueTask InitializeAsync()
    {
        _simulator = new WebApplicationFactory<GraphApiState>().WithWebHostBuilder(web => web
            .UseSetting("WHATSAPP_PHONE_NUMBER_ID", WhatsAppCloudApiExtensions.SimulatedPhoneNumberId)
            .ConfigureTestServices(services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_exported))));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_simulator is not null)
        {
            await _simulator.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_chat_pages_polling_and_the_probes_leave_no_trace_and_what_changes_the_simulator_does()
    {
        using var client = Simulator.CreateClient();
        var cancellationToken = TestContext.Current.CancellationToken;

        // What the page asks every second, a few times over, among the orchestrator's probes.
        for (var poll = 0; poll < 3; poll++)
        {
            (await client.GetAsync("/simulator/sends?to=15551234567", cancellationToken)).EnsureSuccessStatusCode();
            (await client.GetAsync("/simulator/reads?from=15551234567", cancellationToken)).EnsureSuccessStatusCode();
            (await client.GetAsync("/simulator/media-requests?mediaId=1234567890123456", cancellationToken)).EnsureSuccessStatusCode();
            (await client.GetAsync("/health", cancellationToken)).EnsureSuccessStatusCode();
            (await client.GetAsync("/alive", cancellationToken)).EnsureSuccessStatusCode();
        }

        (await client.PostAsJsonAsync("/simulator/token", new TokenValidity(true), cancellationToken)).EnsureSuccessStatusCode();

        var traced = await TracedPathsAsync(until: paths => paths.Contains("/simulator/token"));
        Assert.Equal(["POST /simulator/token"], traced);
    }

    /// <summary>The requests traced so far (method and path), once <paramref name="until"/> holds for their paths.</summary>
    private async Task<List<string>> TracedPathsAsync(Func<List<string>, bool> until)
    {
        // A request's span ends just after its response: the last one may still be on its way to the exporter.
        var deadline = DateTimeOffset.UtcNow.AddSeconds(10);
        while (true)
        {
            var requests = _exported.ToArray().Where(a => a.Kind == ActivityKind.Server).ToList();
            if (until([.. requests.Select(a => a.GetTagItem("url.path") as string ?? "")]) || DateTimeOffset.UtcNow > deadline)
            {
                return [.. requests.Select(a => $"{a.GetTagItem("http.request.method")} {a.GetTagItem("url.path")}")];
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), TestContext.Current.CancellationToken);
        }
    }
}
