using System.Net;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Ava.AppHost.WhatsApp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Ava.Benchmarks;

/// <summary>
/// The whole AppHost as the benchmarks run it: throwaway data but a durable Postgres (fsync on, as in production),
/// both APIs as Production, no telemetry export (nothing listens for it here), and optionally the webhook's Graph
/// API calls pointed at a stand-in instead of the simulator and settings of its own. Resources can be stopped and
/// started as an operator would from the dashboard (the fault tests' outages).
/// </summary>
public sealed class AvaStack : IAsyncDisposable
{
    public const string WebhookApi = "webhookapi";
    public const string MessagesApi = "messagesapi";
    public const string Database = "ava";

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromMinutes(5);

    private readonly DistributedApplication _app;

    private AvaStack(DistributedApplication app, ServiceErrorLog? serviceErrors)
    {
        _app = app;
        ServiceErrors = serviceErrors;
    }

    /// <summary>The services' errors, counted instead of printed, when the stack was started so.</summary>
    public ServiceErrorLog? ServiceErrors { get; }

    /// <param name="webhookSettings">Environment of every webhook instance (e.g. <c>WhatsApp__MaxRetryDelay</c>), over the AppHost's.</param>
    /// <param name="countServiceErrors">Count the services' errors (<see cref="ServiceErrors"/>) instead of printing them.</param>
    public static async Task<AvaStack> StartAsync(
        int webhookReplicas = 1,
        Uri? graphBaseUrl = null,
        IReadOnlyDictionary<string, string>? webhookSettings = null,
        bool countServiceErrors = false)
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
        var serviceErrors = countServiceErrors ? new ServiceErrorLog($"{builder.Environment.ApplicationName}.Resources") : null;
        if (serviceErrors is not null)
        {
            builder.Services.AddLogging(logging => logging
                .AddProvider(serviceErrors)
                .AddFilter<ConsoleLoggerProvider>($"{builder.Environment.ApplicationName}.Resources", LogLevel.None));
        }

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

            if (project.Name == WebhookApi)
            {
                foreach (var (name, value) in webhookSettings ?? new Dictionary<string, string>())
                {
                    resource.WithEnvironment(name, value);
                }
            }
        }

        var app = await builder.BuildAsync(timeout.Token);
        await app.StartAsync(timeout.Token);
        await Task.WhenAll(
            // A Graph API stand-in accepts the run's access token only once told it, after the stack is up: until then
            // the webhook reports its token refused, which the dashboard shows as Degraded — up, and ready for load.
            app.ResourceNotifications.WaitForResourceAsync(
                WebhookApi, e => e.Snapshot.HealthStatus is HealthStatus.Healthy or HealthStatus.Degraded, timeout.Token),
            app.ResourceNotifications.WaitForResourceHealthyAsync(MessagesApi, timeout.Token),
            app.ResourceNotifications.WaitForResourceHealthyAsync(WhatsAppCloudApiExtensions.SimulatorName, timeout.Token));
        return new AvaStack(app, serviceErrors);
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
    public HttpClient CreateLoadClient(string resourceName, int connections) => CreateLoadClient(_app.GetEndpoint(resourceName, "http"), connections);

    /// <inheritdoc cref="CreateLoadClient(string, int)"/>
    public static HttpClient CreateLoadClient(Uri baseAddress, int connections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
    })
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>Stops every instance of the resource, as the dashboard's stop command does, and waits until all have exited.</summary>
    public async Task StopResourceAsync(string resourceName, CancellationToken cancellationToken)
    {
        await ExecuteAsync(Resource(resourceName), KnownResourceCommands.StopCommand, cancellationToken);
        await WaitForEveryInstanceAsync(resourceName, HasStopped, cancellationToken);
    }

    /// <summary>Starts every instance of the resource again and waits until all are healthy.</summary>
    public async Task StartResourceAsync(string resourceName, CancellationToken cancellationToken)
    {
        await ExecuteAsync(Resource(resourceName), KnownResourceCommands.StartCommand, cancellationToken);
        await WaitForEveryInstanceAsync(resourceName, IsHealthy, cancellationToken);
    }

    /// <summary>Waits until one instance of the resource has stopped (e.g. been killed) and returns its id.</summary>
    public async Task<string> WaitForAnInstanceToStopAsync(string resourceName, CancellationToken cancellationToken)
    {
        await foreach (var update in _app.ResourceNotifications.WatchAsync(cancellationToken))
        {
            if (update.Resource.Name == resourceName && HasStopped(update))
            {
                return update.ResourceId;
            }
        }

        throw new OperationCanceledException(cancellationToken);
    }

    /// <summary>
    /// Starts one instance (a replica, by its id) again and waits until it runs as a new process. Not until it is
    /// healthy: a replica's health check goes to the resource's shared endpoint, which the orchestrator's proxy
    /// answers from any replica, so a restarted one is reported healthy at once; readiness is the caller's to check.
    /// </summary>
    /// <returns>Whether the instance was still stopped when asked (false: the orchestrator had restarted it already).</returns>
    public async Task<bool> StartInstanceAsync(string resourceId, CancellationToken cancellationToken)
    {
        // The orchestrator's timestamps can predate the command (its clock is not ours); the process id cannot.
        var before = await CurrentStateAsync(resourceId, cancellationToken);
        var result = await _app.Services.GetRequiredService<ResourceCommandService>()
            .ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand, cancellationToken);
        if (!result.Success)
        {
            throw new InvalidOperationException($"Starting {resourceId} failed: {result.Message}");
        }

        await foreach (var update in _app.ResourceNotifications.WatchAsync(cancellationToken))
        {
            if (update.ResourceId == resourceId && update.Snapshot.State?.Text == KnownResourceStates.Running
                && Pid(update) is { } pid && pid != "0" && pid != Pid(before))
            {
                break;
            }
        }

        return HasStopped(before);
    }

    /// <summary>An instance's current snapshot: a watch starts with the current snapshot of every resource.</summary>
    private async Task<ResourceEvent> CurrentStateAsync(string resourceId, CancellationToken cancellationToken)
    {
        await foreach (var update in _app.ResourceNotifications.WatchAsync(cancellationToken))
        {
            if (update.ResourceId == resourceId)
            {
                return update;
            }
        }

        throw new OperationCanceledException(cancellationToken);
    }

    private static string? Pid(ResourceEvent update) =>
        update.Snapshot.Properties.FirstOrDefault(p => p.Name.EndsWith(".pid", StringComparison.Ordinal))?.Value?.ToString();

    private async Task ExecuteAsync(IResource resource, string command, CancellationToken cancellationToken)
    {
        var result = await _app.Services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(resource, command, cancellationToken);
        if (!result.Success)
        {
            throw new InvalidOperationException($"{command} of {resource.Name} failed: {result.Message}");
        }
    }

    /// <summary>Waits until every instance (replica) of the resource is in the state <paramref name="reached"/> describes.</summary>
    private async Task WaitForEveryInstanceAsync(string resourceName, Func<ResourceEvent, bool> reached, CancellationToken cancellationToken)
    {
        var instances = new Dictionary<string, bool>();
        await foreach (var update in _app.ResourceNotifications.WatchAsync(cancellationToken))
        {
            if (update.Resource.Name != resourceName)
            {
                continue;
            }

            instances[update.ResourceId] = reached(update);
            if (instances.Values.All(done => done))
            {
                return;
            }
        }
    }

    private static bool HasStopped(ResourceEvent update) =>
        update.Snapshot.State?.Text is "Exited" or "Finished" or "FailedToStart";

    private static bool IsHealthy(ResourceEvent update) => update.Snapshot.HealthStatus == HealthStatus.Healthy;

    private IResource Resource(string name) =>
        _app.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == name);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
