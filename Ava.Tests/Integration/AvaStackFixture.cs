using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Ava.Tests.Integration;

/// <summary>
/// Starts the whole AppHost once per test collection, with throwaway data (local executables where no container
/// engine answers), waits until every long-running resource is healthy, and stops it all afterwards.
/// </summary>
public class AvaStackFixture : IAsyncLifetime
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromMinutes(3);

    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The stack has not started.");

    public async ValueTask InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(s_startTimeout);

        // Two webhook instances side by side, as in production: every test also proves they never both handle a message.
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Ava_AppHost>(
            ["--Ava:ThrowawayData=true", "--Ava:WebhookReplicas=2", .. Arguments], timeout.Token);

        // Tests run without the dashboard, so nothing listens for telemetry; with Aspire's OTLP retry setting each
        // service would otherwise spend its shutdown retrying the export (10 s for the migration worker).
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            builder.CreateResourceBuilder(project).WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", "");
        }

        Configure(builder);
        _app = await builder.BuildAsync(timeout.Token);
        await _app.StartAsync(timeout.Token);
        await WaitForAllResourcesAsync(_app, timeout.Token);
    }

    public HttpClient CreateHttpClient(string resourceName) => App.CreateHttpClient(resourceName);

    /// <summary>A collection's own AppHost settings, read as the AppHost builds its model.</summary>
    protected virtual string[] Arguments => [];

    /// <summary>Adjusts the stack before it starts (a collection's own settings).</summary>
    protected virtual void Configure(IDistributedApplicationTestingBuilder builder)
    {
    }

    public async Task<string> GetConnectionStringAsync(string resourceName) =>
        await App.GetConnectionStringAsync(resourceName, TestContext.Current.CancellationToken)
            ?? throw new InvalidOperationException($"{resourceName} has no connection string.");

    /// <summary>The value the AppHost gave a parameter (e.g. the generated app secret shared with the simulator).</summary>
    public async Task<string> GetParameterAsync(string name)
    {
        var parameter = App.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .OfType<ParameterResource>()
            .Single(p => p.Name == name);
        return await parameter.GetValueAsync(TestContext.Current.CancellationToken)
            ?? throw new InvalidOperationException($"Parameter {name} has no value.");
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    /// <summary>
    /// Every resource that keeps running must be healthy; the run-to-completion ones (initdb, migrations) are
    /// covered by that, since the others wait for them to complete successfully.
    /// </summary>
    private static async Task WaitForAllResourcesAsync(DistributedApplication app, CancellationToken cancellationToken)
    {
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var runToCompletion = model.Resources
            .SelectMany(resource => resource.Annotations.OfType<WaitAnnotation>())
            .Where(wait => wait.WaitType == WaitType.WaitForCompletion)
            .Select(wait => wait.Resource.Name)
            .ToHashSet();

        await Task.WhenAll(model.Resources
            .Where(resource => resource is not ParameterResource && !runToCompletion.Contains(resource.Name) && !IsHidden(app, resource))
            .Select(resource => app.ResourceNotifications.WaitForResourceHealthyAsync(resource.Name, cancellationToken)));
    }

    /// <summary>Aspire's own helper resources (e.g. project rebuilders) are hidden and never run on their own.</summary>
    private static bool IsHidden(DistributedApplication app, IResource resource) =>
        app.ResourceNotifications.TryGetCurrentState(resource.Name, out var state) && state.Snapshot.IsHidden;
}

[CollectionDefinition(Name)]
public sealed class AvaStackCollection : ICollectionFixture<AvaStackFixture>
{
    public const string Name = "Ava stack";
}

/// <summary>
/// A stack of its own for tests that stop and start Postgres or Redis. Its webhook retries sends within a fraction
/// of a second instead of seconds to minutes, so that a long run of failures fits in a test.
/// </summary>
public sealed class OutageStackFixture : AvaStackFixture
{
    protected override void Configure(IDistributedApplicationTestingBuilder builder) =>
        builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "webhookapi"))
            .WithEnvironment("WhatsApp__RetryBaseDelay", "00:00:00.050")
            .WithEnvironment("WhatsApp__MaxRetryDelay", "00:00:00.200");

    /// <summary>Stops every instance of the resource (gracefully, as an orchestrator does) and waits until they have exited.</summary>
    public async Task StopAsync(string resourceName)
    {
        var resource = Resource(resourceName);
        var result = await App.Services.GetRequiredService<ResourceCommandService>()
            .ExecuteCommandAsync(resource, KnownResourceCommands.StopCommand, TestContext.Current.CancellationToken);
        Assert.True(result.Success, result.Message);
        await WaitForEveryInstanceAsync(resourceName, e => e.Snapshot.State?.Text is "Exited" or "Finished");
    }

    public async Task StartAsync(string resourceName)
    {
        var resource = Resource(resourceName);
        var result = await App.Services.GetRequiredService<ResourceCommandService>()
            .ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand, TestContext.Current.CancellationToken);
        Assert.True(result.Success, result.Message);
        await WaitForEveryInstanceAsync(resourceName, e => e.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy);

        // The tests' own pooled connections died with the server.
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Waits until every instance (replica) of the resource is in the state <paramref name="reached"/> describes.</summary>
    private async Task WaitForEveryInstanceAsync(string resourceName, Func<ResourceEvent, bool> reached)
    {
        var instances = new Dictionary<string, bool>();
        await foreach (var update in App.ResourceNotifications.WatchAsync(TestContext.Current.CancellationToken))
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

    private IResource Resource(string name) =>
        App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == name);
}

[CollectionDefinition(Name)]
public sealed class OutageStackCollection : ICollectionFixture<OutageStackFixture>
{
    public const string Name = "Ava stack with outages";
}
