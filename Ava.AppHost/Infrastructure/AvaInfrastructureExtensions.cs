using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ava.AppHost.Infrastructure;

/// <summary>Ava's Postgres database and Redis cache, whichever way they run.</summary>
/// <param name="Database">Postgres database <c>ava</c>.</param>
/// <param name="Cache">Redis <c>cache</c>.</param>
/// <param name="DataDirectory">
/// Where services keep local state (the webhook's spool): beside the solution in development, throwaway in tests.
/// </param>
/// <param name="DatabaseEndpoint">The Postgres server's endpoint, for connections under another login.</param>
public sealed record AvaInfrastructure(
    IResourceBuilder<IResourceWithConnectionString> Database,
    IResourceBuilder<IResourceWithConnectionString> Cache,
    string DataDirectory,
    EndpointReference DatabaseEndpoint)
{
    /// <summary>A connection string to Ava's database as another login than the owner the services share.</summary>
    public ReferenceExpression DatabaseConnectionStringFor(string login, IResourceBuilder<ParameterResource> password) =>
        ReferenceExpression.Create(
            $"Host={DatabaseEndpoint.Property(EndpointProperty.Host)};Port={DatabaseEndpoint.Property(EndpointProperty.Port)};Username={login};Password={password.Resource};Database={AvaInfrastructureExtensions.DatabaseName}");
}

public static class AvaInfrastructureExtensions
{
    public const string DatabaseName = "ava";
    public const string CacheName = "cache";

    /// <summary>Run with throwaway data (tests): no volumes, a temporary data directory removed at stop.</summary>
    public const string ThrowawayDataKey = "Ava:ThrowawayData";

    /// <summary>
    /// Whether Postgres syncs to disk (default: yes, except with throwaway data, whose cluster lives for minutes).
    /// The benchmark keeps it on to measure what production would see.
    /// </summary>
    public const string DurablePostgresKey = "Ava:DurablePostgres";

    /// <summary>Wipe the local development data before starting.</summary>
    public const string StartCleanKey = "Ava:StartClean";

    /// <summary>
    /// Adds Postgres (database <c>ava</c>) and Redis (<c>cache</c>): as containers where an engine answers, as
    /// local executables otherwise (see <see cref="InfrastructureChoice"/>). The services see the same
    /// connection-string names either way.
    /// </summary>
    /// <exception cref="InfrastructureUnavailableException">Neither way is possible here.</exception>
    public static AvaInfrastructure AddAvaInfrastructure(this IDistributedApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var decision = InfrastructureChoice.Decide(
            configuration[InfrastructureChoice.ConfigurationKey],
            ContainerEngineProbe.FindAnsweringRuntime,
            () => LocalToolset.Find(configuration[LocalToolset.PostgresBinDirectoryKey]));

        var throwaway = configuration.GetValue<bool>(ThrowawayDataKey);
        var runAsUser = decision.LocalTools?.RunAsUser;
        var data = throwaway
            ? LocalDataDirectory.CreateThrowaway(runAsUser)
            : LocalDataDirectory.ForDevelopment(
                Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..")), runAsUser, configuration.GetValue<bool>(StartCleanKey));

        if (data.IsThrowaway)
        {
            builder.Services.AddHostedService(services => new ThrowawayDataRemover(
                services.GetRequiredService<IHostApplicationLifetime>(), data));
        }

        var (database, cache, endpoint) = decision.Mode == InfrastructureMode.Containers
            ? builder.AddContainerInfrastructure(decision.ContainerRuntime!, throwaway)
            : builder.AddLocalInfrastructure(decision.LocalTools!, data, configuration.GetValue(DurablePostgresKey, !throwaway));
        return new AvaInfrastructure(database, cache, data.Root, endpoint);
    }

    /// <summary>The webhook's spool (deliveries waiting for Postgres) lives in the stack's data directory.</summary>
    public static IResourceBuilder<ProjectResource> WithWebhookSpool(
        this IResourceBuilder<ProjectResource> webhook, AvaInfrastructure infrastructure) =>
        webhook.WithEnvironment("WhatsApp__SpoolDirectory", Path.Combine(infrastructure.DataDirectory, "webhook-spool"));

    private static (IResourceBuilder<IResourceWithConnectionString>, IResourceBuilder<IResourceWithConnectionString>, EndpointReference) AddContainerInfrastructure(
        this IDistributedApplicationBuilder builder, string runtime, bool throwaway)
    {
        // Tell Aspire's orchestrator which engine answered (it assumes Docker otherwise).
        builder.Configuration["ASPIRE_CONTAINER_RUNTIME"] = runtime;

        var postgres = builder.AddPostgres("postgres").WithArgs([.. PostgresTuning.AsArguments()]);
        if (!throwaway)
        {
            postgres.WithDataVolume("ava-postgres-data").WithLifetime(ContainerLifetime.Persistent);
        }

        var database = postgres.AddDatabase(DatabaseName);
        var cache = builder.AddRedis(CacheName);
        if (!throwaway)
        {
            cache.WithDataVolume("ava-redis-data").WithLifetime(ContainerLifetime.Persistent);
        }

        return (database, cache, postgres.Resource.PrimaryEndpoint);
    }

    private static (IResourceBuilder<IResourceWithConnectionString>, IResourceBuilder<IResourceWithConnectionString>, EndpointReference) AddLocalInfrastructure(
        this IDistributedApplicationBuilder builder, LocalToolset tools, LocalDataDirectory data, bool durable)
    {
        var database = builder.AddLocalPostgresDatabase("postgres", DatabaseName, tools, data, durable);
        return (database, builder.AddLocalRedis(CacheName, tools, data), database.Resource.Parent.PrimaryEndpoint);
    }

    /// <summary>Removes the throwaway data directory once the orchestrator has stopped every resource.</summary>
    private sealed class ThrowawayDataRemover(IHostApplicationLifetime lifetime, LocalDataDirectory data) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            lifetime.ApplicationStopped.Register(data.DeleteIfThrowaway);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
