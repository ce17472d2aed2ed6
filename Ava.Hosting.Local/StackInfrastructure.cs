using System.Runtime.CompilerServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ava.Hosting.Local;

/// <summary>
/// The one decision of an AppHost about its infrastructure (<see cref="InfrastructureChoice"/>) and what follows from
/// it: where the stack keeps its local state, whether that is thrown away, whether Postgres syncs to disk. Made the
/// first time anything asks, and the same for every resource after.
/// </summary>
internal sealed class StackInfrastructure
{
    private static readonly ConditionalWeakTable<IDistributedApplicationBuilder, StackInfrastructure> s_chosen = [];

    private StackInfrastructure(InfrastructureDecision decision, LocalDataDirectory? data, ThrowawayVolumes? volumes, bool throwaway, bool durablePostgres)
    {
        Decision = decision;
        Data = data;
        Volumes = volumes;
        Throwaway = throwaway;
        DurablePostgres = durablePostgres;
    }

    public InfrastructureDecision Decision { get; }

    public bool RunsContainers => Decision.Mode == InfrastructureMode.Containers;

    /// <summary>The stack's data directory on this machine; none when publishing, which never runs anything here.</summary>
    public LocalDataDirectory? Data { get; }

    /// <summary>A throwaway run's container volumes; none when the data is kept, or nothing runs in containers.</summary>
    public ThrowawayVolumes? Volumes { get; }

    public bool Throwaway { get; }

    public bool DurablePostgres { get; }

    /// <summary>Makes the data directory just before the resource that uses it starts (see <see cref="LocalDataDirectory"/>).</summary>
    public IResourceBuilder<T> PreparesData<T>(IResourceBuilder<T> resource) where T : IResource =>
        resource.OnBeforeResourceStarted((_, _, _) =>
        {
            Data?.Prepare(forLocalServers: !RunsContainers);
            return Task.CompletedTask;
        });

    /// <exception cref="InfrastructureUnavailableException">Neither way is possible here, or not the one forced.</exception>
    public static StackInfrastructure Of(IDistributedApplicationBuilder builder) => s_chosen.GetValue(builder, Choose);

    private static StackInfrastructure Choose(IDistributedApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var publishing = builder.ExecutionContext.IsPublishMode;
        var decision = InfrastructureChoice.Decide(
            configuration[InfrastructureChoice.ConfigurationKey],
            publishing,
            () => ContainerEngine.FindAnsweringRuntime(configuration[ContainerEngine.RuntimeKey]),
            () => LocalToolset.Find(configuration[LocalToolset.PostgresBinDirectoryKey]));

        if (decision.ContainerRuntime is { } runtime)
        {
            // Tell Aspire's orchestrator which engine answered (it assumes Docker otherwise).
            configuration[ContainerEngine.RuntimeKey] = runtime;
        }

        var throwaway = configuration.GetValue<bool>(InfrastructureSettings.ThrowawayDataKey);
        if (publishing)
        {
            return new StackInfrastructure(decision, data: null, volumes: null, throwaway, durablePostgres: true);
        }

        var runAsUser = decision.LocalTools?.RunAsUser;
        var data = throwaway
            ? LocalDataDirectory.Throwaway(runAsUser)
            : LocalDataDirectory.ForDevelopment(
                Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..")),
                runAsUser,
                configuration.GetValue<bool>(InfrastructureSettings.StartCleanKey));

        var volumes = data.IsThrowaway && decision.ContainerRuntime is { } engine ? new ThrowawayVolumes(engine, data.Name) : null;
        if (data.IsThrowaway)
        {
            builder.Services.AddHostedService(services => new ThrowawayDataRemover(
                services.GetRequiredService<IHostApplicationLifetime>(), data, volumes));
        }

        return new StackInfrastructure(
            decision, data, volumes, throwaway, configuration.GetValue(InfrastructureSettings.DurablePostgresKey, !throwaway));
    }

    /// <summary>Removes the throwaway data directory and volumes once the orchestrator has stopped every resource.</summary>
    private sealed class ThrowawayDataRemover(IHostApplicationLifetime lifetime, LocalDataDirectory data, ThrowawayVolumes? volumes) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            lifetime.ApplicationStopped.Register(() =>
            {
                data.DeleteIfThrowaway();
                volumes?.RemoveAll();
            });
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
