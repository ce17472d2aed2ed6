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
/// A service's telemetry as its service defaults and Aspire's database client set it up, traced as Aspire runs it
/// (every trace sampled, whatever its parent decided) and exported to memory: a background worker's database and cache
/// calls that belong to no operation leave no trace, nor do a health probe's checks, and every span of an operation — a
/// request, a message's way through the webhook — is kept with its database and cache calls.
/// </summary>
[Collection(InProcessTracingCollection.Name)]
public sealed class IdleWorkTracingTests : IAsyncLifetime
{
    /// <summary>Nothing listens on port 1: the connection is refused at once, after Npgsql has traced the attempt.</summary>
    private const string UnreachablePostgres = "Host=127.0.0.1;Port=1;Username=ava;Password=ava;Database=ava;Timeout=1";

    /// <summary>The activity source of the StackExchange.Redis instrumentation that Aspire's Redis client registers.</summary>
    private const string RedisInstrumentation = "OpenTelemetry.Instrumentation.StackExchangeRedis";

    /// <summary>The source of the webhook's own spans (receive, process delivery, graph send).</summary>
    private static readonly ActivitySource s_whatsApp = new("Ava.WhatsApp");

    private static readonly ActivitySource s_redis = new(RedisInstrumentation);

    private readonly List<Activity> _exported = [];
    private WebApplication? _app;
    private HttpClient? _client;

    private WebApplication App => _app ?? throw new InvalidOperationException("Not started.");

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

        // The cache's check, as Aspire's Redis client runs it: a PING.
        builder.Services.AddHealthChecks().AddCheck("cache", () =>
        {
            RedisCall("PING");
            return HealthCheckResult.Healthy();
        });
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing
            .AddSource(RedisInstrumentation)
            .AddInMemoryExporter(_exported));

        _app = builder.Build();
        _app.MapDefaultEndpoints();
        _app.MapGet("/history", async () =>
        {
            await OpenConnectionAsync();
            RedisCall("MGET");
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
    public async Task A_workers_database_and_cache_calls_outside_any_operation_leave_no_trace()
    {
        // A poll that finds nothing opens a connection on its own; a heartbeat writes to Redis.
        await OpenConnectionAsync();
        RedisCall("EXEC");

        // Something traced after them, so that the exporter has seen everything before it.
        s_whatsApp.StartActivity("marker")?.Dispose();
        await ExportedAsync("marker");

        Assert.Equal(["marker"], _exported.Select(a => a.DisplayName));
    }

    [Fact]
    public async Task Every_span_of_a_messages_trace_is_kept_with_its_database_and_cache_calls()
    {
        using (s_whatsApp.StartActivity("process delivery", ActivityKind.Consumer))
        {
            await OpenConnectionAsync();
            RedisCall("MGET");
            using var send = s_whatsApp.StartActivity("graph send");
        }

        var processing = await ExportedAsync("process delivery");
        var spans = _exported.ToArray();
        Assert.All(spans, span => Assert.Equal(processing.TraceId, span.TraceId));
        Assert.Contains(spans, span => span.Source.Name == "Npgsql");
        Assert.Contains(spans, span => span.Source.Name == RedisInstrumentation);
        Assert.Contains(spans, span => span.DisplayName == "graph send");
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

    /// <summary>Opens a connection to a server that is not there, as a worker's poll does while Postgres is away.</summary>
    private async Task OpenConnectionAsync()
    {
        var dataSource = App.Services.GetRequiredService<NpgsqlDataSource>();
        await Assert.ThrowsAsync<NpgsqlException>(async () => await dataSource.OpenConnectionAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>
    /// A Redis command's span as the Redis instrumentation makes it: once the command is done, on a thread of its own,
    /// under the context of the operation that sent it.
    /// </summary>
    private static void RedisCall(string command)
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
