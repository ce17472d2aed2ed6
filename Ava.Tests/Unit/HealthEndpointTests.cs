using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using ServiceDefaults = Microsoft.Extensions.Hosting.Extensions;

namespace Ava.Tests.Unit;

/// <summary>
/// The public <c>/health</c> of every service, in process: anonymous probes share one run of the dependency checks
/// per period instead of each running them against the databases.
/// </summary>
public sealed class HealthEndpointTests : IAsyncLifetime
{
    private readonly ManualClock _clock = new();
    private WebApplication? _app;
    private HttpClient? _client;
    private int _dependencyChecks;
    private volatile bool _dependencyUp = true;

    private HttpClient Client => _client ?? throw new InvalidOperationException("Not started.");

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.AddServiceDefaults();
        builder.Services.AddSingleton<TimeProvider>(_clock);
        builder.Services.AddHealthChecks().AddCheck("dependency", () =>
        {
            Interlocked.Increment(ref _dependencyChecks);
            return _dependencyUp ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy();
        });

        _app = builder.Build();
        _app.MapDefaultEndpoints();
        await _app.StartAsync(TestContext.Current.CancellationToken);
        _client = _app.GetTestClient();
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_flood_of_probes_runs_the_dependency_checks_once()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => HealthAsync()));

        Assert.All(answers, answer => Assert.Equal((HttpStatusCode.OK, "Healthy"), answer));
        Assert.Equal(1, _dependencyChecks);
    }

    [Fact]
    public async Task A_healthy_answer_is_reused_for_five_seconds_then_checked_again()
    {
        await HealthAsync();

        _clock.Advance(ServiceDefaults.HealthyResultLifetime - TimeSpan.FromMilliseconds(1));
        await HealthAsync();
        Assert.Equal(1, _dependencyChecks);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await HealthAsync();
        Assert.Equal(2, _dependencyChecks);
    }

    [Fact]
    public async Task An_unhealthy_answer_is_checked_again_after_a_second_so_recovery_shows_quickly()
    {
        _dependencyUp = false;
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Unhealthy"), await HealthAsync());

        _dependencyUp = true;
        _clock.Advance(ServiceDefaults.UnhealthyResultLifetime);

        Assert.Equal((HttpStatusCode.OK, "Healthy"), await HealthAsync());
        Assert.Equal(2, _dependencyChecks);
    }

    [Fact]
    public async Task Alive_never_runs_the_dependency_checks()
    {
        using var response = await Client.GetAsync(ServiceDefaults.AlivenessEndpointPath, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, _dependencyChecks);
    }

    private async Task<(HttpStatusCode, string)> HealthAsync()
    {
        using var response = await Client.GetAsync(ServiceDefaults.HealthEndpointPath, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>Time that moves only when the test says so.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
