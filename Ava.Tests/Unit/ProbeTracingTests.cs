using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OpenTelemetry.Trace;

namespace Ava.Tests.Unit;

/// <summary>
/// A service in process, traced as Aspire runs it (every trace sampled, whatever its parent decided) and exported to
/// memory: the orchestrator's health probes run the database and cache checks without leaving a trace, while a request
/// that is traced keeps its database and cache calls.
/// </summary>
[Collection(InProcessTracingCollection.Name)]
public sealed class ProbeTracingTests : IAsyncLifetime
{
    /// <summary>Nothing listens on port 1: the connection is refused at once, after Npgsql has traced the attempt.</summary>
    private const string UnreachablePostgres = "Host=127.0.0.1;Port=1;Username=ava;Password=ava;Database=ava;Timeout=1";

    /// <summary>The activity source of the StackExchange.Redis instrumentation that Aspire's Redis client registers.</summary>
    private const string RedisInstrumentation = "OpenTelemetry.Instrumentation.StackExchangeRedis";

    private static readonly ActivitySource s_redis = new(RedisInstrumentation);

    private readonly List<Activity> _exported = [];
    private WebApplication? _app;
    private HttpClient? _client;

    private HttpClient Client => _client ?? throw new InvalidOperationException("Not started.");

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();

        // What Aspire gives every service it runs, so that the dashboard sees every trace.
        builder.Configuration["OTEL_TRACES_SAMPLER"] = "always_on";
        builder.Configuration["ConnectionStrings:" + AvaDataExtensions.ConnectionName] = UnreachablePostgres;
        builder.AddServiceDefaults();
        builder.AddAvaDataSource();

        // The cache's check, as Aspire's Redis client runs it: a PING, whose span the Redis instrumentation makes once
        // the command is done, on a thread of its own, under the context of the operation that sent it.
        builder.Services.AddHealthChecks().AddCheck("cache", () =>
        {
            RedisSpan("PING");
            return HealthCheckResult.Healthy();
        });
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing
            .AddSource(RedisInstrumentation)
            .AddInMemoryExporter(_exported));

        _app = builder.Build();
        _app.MapDefaultEndpoints();
        _app.MapGet("/history", async (NpgsqlDataSource database) =>
        {
            await Assert.ThrowsAsync<NpgsqlException>(async () => await database.OpenConnectionAsync());
            RedisSpan("MGET");
            return Results.Ok();
        });
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
    public async Task A_health_probe_checks_the_database_and_cache_without_a_trace_and_a_traced_request_keeps_its_calls()
    {
        var cancellationToken = TestContext.Current.CancellationToken;

        // The database is unreachable: the probe did run its checks against it.
        using (var probe = await Client.GetAsync("/health", cancellationToken))
        {
            Assert.Equal("Unhealthy", await probe.Content.ReadAsStringAsync(cancellationToken));
        }

        (await Client.GetAsync("/history", cancellationToken)).EnsureSuccessStatusCode();

        var request = await ExportedAsync("GET /history");
        var databaseAndCacheCalls = _exported.ToArray().Where(span => span.Source.Name is "Npgsql" or RedisInstrumentation).ToArray();
        Assert.All(databaseAndCacheCalls, call => Assert.Equal(request.TraceId, call.TraceId));
        Assert.Contains(databaseAndCacheCalls, call => call.Source.Name == "Npgsql");
        Assert.Contains(databaseAndCacheCalls, call => call.DisplayName == "MGET");
    }

    private static void RedisSpan(string command)
    {
        var sentUnder = Activity.Current?.Context ?? default;
        using (ExecutionContext.SuppressFlow())
        {
            Task.Run(() => s_redis.StartActivity(command, ActivityKind.Client, sentUnder)?.Dispose()).Wait();
        }
    }

    /// <summary>The exported span of that name, once it has arrived.</summary>
    private async Task<Activity> ExportedAsync(string name)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(10);
        while (true)
        {
            if (_exported.ToArray().FirstOrDefault(a => a.DisplayName == name) is { } span)
            {
                return span;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"No span '{name}' was exported.");
            await Task.Delay(TimeSpan.FromMilliseconds(20), TestContext.Current.CancellationToken);
        }
    }
}
