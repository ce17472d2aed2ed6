using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OpenTelemetry.Trace;

namespace Ava.Tests.Unit;

/// <summary>
/// A service's telemetry as its service defaults and Aspire's database client set it up, exported to memory: a
/// background worker's database and cache calls that belong to no operation leave no trace, and every span of an
/// operation — a message's way through the webhook — is kept with its database calls.
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
    private IHost? _host;

    private IHost Host => _host ?? throw new InvalidOperationException("Not started.");

    public async ValueTask InitializeAsync()
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration["ConnectionStrings:" + AvaDataExtensions.ConnectionName] = UnreachablePostgres;
        builder.AddServiceDefaults();
        builder.AddAvaDataSource();
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing
            .AddSource(RedisInstrumentation)
            .AddInMemoryExporter(_exported));
        _host = builder.Build();
        await _host.StartAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }
    }

    [Fact]
    public async Task A_workers_database_and_cache_calls_outside_any_operation_leave_no_trace()
    {
        // A poll that finds nothing opens a connection on its own; a heartbeat writes to Redis.
        await OpenConnectionAsync();
        s_redis.StartActivity("EXEC", ActivityKind.Client)?.Dispose();

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
            s_redis.StartActivity("MGET", ActivityKind.Client)?.Dispose();
            using var send = s_whatsApp.StartActivity("graph send");
        }

        var processing = await ExportedAsync("process delivery");
        var spans = _exported.ToArray();
        Assert.All(spans, span => Assert.Equal(processing.TraceId, span.TraceId));
        Assert.Contains(spans, span => span.Source.Name == "Npgsql");
        Assert.Contains(spans, span => span.Source.Name == RedisInstrumentation);
        Assert.Contains(spans, span => span.DisplayName == "graph send");
    }

    /// <summary>Opens a connection to a server that is not there, as a worker's poll does while Postgres is away.</summary>
    private async Task OpenConnectionAsync()
    {
        var dataSource = Host.Services.GetRequiredService<NpgsqlDataSource>();
        await Assert.ThrowsAsync<NpgsqlException>(async () => await dataSource.OpenConnectionAsync(TestContext.Current.CancellationToken));
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
