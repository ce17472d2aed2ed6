using Microsoft.Extensions.Configuration;

namespace Ava.Hosting.Local;

/// <summary>
/// The AppHost's settings of its infrastructure (command line <c>--Key=value</c>, user-secrets or environment), and
/// the gate that makes the choice before any resource is added.
/// </summary>
public static class InfrastructureSettings
{
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
    /// Asks the AppHost what the way it would choose lacks on this machine, and nothing else: one line per missing
    /// piece (<c>package NAME</c>, <c>user NAME</c>), none where containers are the way. <c>scripts/prerequisites.sh</c>
    /// installs what it lists, so that the choice itself is made here alone.
    /// </summary>
    public const string ListMissingPrerequisitesKey = "Ava:ListMissingPrerequisites";

    /// <summary>
    /// Chooses how Postgres and Redis run — containers where an engine answers and whenever the AppHost publishes,
    /// the machine's own binaries otherwise — before any resource asks. Where neither is possible, writes one line
    /// naming what to install; asked for <see cref="ListMissingPrerequisitesKey"/>, writes that list.
    /// </summary>
    /// <param name="exitCode">When the AppHost is to stop here: the code to exit with.</param>
    /// <returns>Whether the AppHost goes on to add its resources.</returns>
    public static bool TryChooseInfrastructure(this IDistributedApplicationBuilder builder, out int exitCode)
    {
        var configuration = builder.Configuration;
        if (configuration.GetValue<bool>(ListMissingPrerequisitesKey))
        {
            foreach (var missing in InfrastructureChoice.LocalPrerequisitesToInstall(
                configuration[InfrastructureChoice.ConfigurationKey],
                () => ContainerEngine.FindAnsweringRuntime(configuration[ContainerEngine.RuntimeKey]),
                () => LocalToolset.Find(configuration[LocalToolset.PostgresBinDirectoryKey])))
            {
                Console.Out.WriteLine(missing);
            }

            exitCode = 0;
            return false;
        }

        try
        {
            _ = StackInfrastructure.Of(builder);
        }
        catch (InfrastructureUnavailableException exception)
        {
            Console.Error.WriteLine(exception.Message);
            exitCode = 1;
            return false;
        }

        exitCode = 0;
        return true;
    }
}
