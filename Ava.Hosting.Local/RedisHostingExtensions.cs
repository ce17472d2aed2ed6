namespace Ava.Hosting.Local;

/// <summary>
/// Redis either way: Aspire's container where an engine answers and whenever the AppHost publishes, the machine's
/// own <c>redis-server</c> as an executable otherwise. The resources that reference it see the same connection string.
/// </summary>
public static class RedisHostingExtensions
{
    /// <param name="dataVolumeName">The container's data volume (a development run keeps it across restarts).</param>
    /// <exception cref="InfrastructureUnavailableException">Redis cannot run here (see <see cref="InfrastructureSettings.TryChooseInfrastructure"/>).</exception>
    public static IResourceBuilder<IResourceWithConnectionString> AddRedisServer(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, string dataVolumeName)
    {
        var stack = StackInfrastructure.Of(builder);
        if (!stack.RunsContainers)
        {
            return stack.PreparesData(builder.AddLocalRedis(name, stack.Decision.LocalTools!, stack.Data!));
        }

        var redis = builder.AddRedis(name);
        if (!stack.Throwaway)
        {
            redis.WithDataVolume(dataVolumeName).WithLifetime(ContainerLifetime.Persistent);
        }

        return redis;
    }
}
