using System.Net;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Ava.AppHost.WhatsApp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ava.Benchmarks;

/// <summary>
/// The whole AppHost as the benchmarks run it: throwaway data but a durable Postgres (fsync on, as in production),
/// both APIs as Production, no telemetry export (nothing listens for it here), and optionally the webhook's Graph
/// API calls pointed at a stand-in instead of the simulator.
/// </summary>
public sealed class AvaStack : IAsyncDisposable
{
    public const string WebhookApi = "webhookapi";
    public const string MessagesApi = "messagesapi";
    public const string Database = "ava";

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromMinutes(5);

    private readonly DistributedApplication _app;

    private AvaStack(DistributedApplication app) => _app = app;

    public static async Task<AvaStack> StartAsync(int webhookReplicas = 1, Uri? graphBaseUrl = null)
    {
        using var timeout = new CancellationTokenSource(s_startTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Ava_AppHost>(
            ["--Ava:ThrowawayData=true", "--Ava:DurablePostgres=true", $"--Ava:WebhookReplicas={webhookReplicas}"], timeout.Token);
        // The figures are the output. The services' own logs (forwarded here line by line) would bury them: only their
        // errors are shown. Postgres writes everything to stderr, health checks fail as designed until each resource
        // is up, and the migrator's first query fails on an empty database, so those say nothing here.
        builder.Services.AddLogging(logging => logging
            .AddFilter("Aspire.Hosting", LogLevel.Error)
            .AddFilter("Aspire.Hosting.Dcp", LogLevel.Error)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
            .AddFilter("System.Net.Http", LogLevel.Warning)
            .AddFilter($"{builder.Environment.ApplicationName}.Resources", LogLevel.Error)
            .AddFilter($"{builder.Environment.ApplicationName}.Resources.postgres", LogLevel.None)
            .AddFilter($"{builder.Environment.ApplicationName}.Resources.migrations", LogLevel.Critical));

        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            var resource = builder.CreateResourceBuilder(project).WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", "");

            // The launch profiles say Development (developer exception pages, OpenAPI, relaxed validation); these
            // callbacks run after the profile's, so they win.
            if (project.Name is WebhookApi or MessagesApi)
            {
                resource.WithEnvironment("ASPNETCORE_ENVIRONMENT", "Production").WithEnvironment("DOTNET_ENVIRONMENT", "Production");

                // The orchestrator's development proxy in front of an endpoint costs a fifth of a core at these rates
                // and exists nowhere in production: a single instance is measured without it (several need it to
                // share the traffic).
                if (project.Name == MessagesApi || webhookReplicas == 1)
                {
                    resource.WithEndpoint("http", endpoint => endpoint.IsProxied = false);
                }
            }

            // Registered after the AppHost's own WHATSAPP_GRAPH_BASE_URL (the simulator), so this value is the one
            // the webhook gets.
            if (project.Name == WebhookApi && graphBaseUrl is not null)
            {
                resource.WithEnvironment("WHATSAPP_GRAPH_BASE_URL", graphBaseUrl.ToString());
            }
        }

        var app = await builder.BuildAsync(timeout.Token);
        await app.StartAsync(timeout.Token);
        await Task.WhenAll(
            app.ResourceNotifications.WaitForResourceHealthyAsync(WebhookApi, timeout.Token),
            app.ResourceNotifications.WaitForResourceHealthyAsync(MessagesApi, timeout.Token),
            app.ResourceNotifications.WaitForResourceHealthyAsync(WhatsAppCloudApiExtensions.SimulatorName, timeout.Token));
        return new AvaStack(app);
    }

    /// <summary>The value the AppHost gave a parameter (generated secrets such as the app secret).</summary>
    public async Task<string> GetParameterAsync(string name)
    {
        var parameter = _app.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .OfType<ParameterResource>()
            .Single(p => p.Name == name);
        return await parameter.GetValueAsync(default) ?? throw new InvalidOperationException($"Parameter {name} has no value.");
    }

    /// <summary>The owner login's connection string of Ava's database.</summary>
    public async Task<string> GetDatabaseConnectionStringAsync() =>
        await _app.GetConnectionStringAsync(Database) ?? throw new InvalidOperationException("The database has no connection string.");

    /// <summary>
    /// A client of the resource's http endpoint with nothing between it and the socket: no resilience handler
    /// (retries would hide failures and add load), and as many connections as the load generator keeps in flight.
    /// </summary>
    public HttpClient CreateLoadClient(string resourceName, int connections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
    })
    {
        BaseAddress = _app.GetEndpoint(resourceName, "http"),
        Timeout = TimeSpan.FromSeconds(30),
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
