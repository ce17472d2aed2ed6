namespace Ava.Hosting.Local;

/// <summary>How the AppHost runs Postgres and Redis.</summary>
public enum InfrastructureMode
{
    /// <summary>Aspire's Postgres and Redis containers, on Docker or Podman.</summary>
    Containers,

    /// <summary>The machine's own <c>postgres</c> and <c>redis-server</c>, started as executables.</summary>
    Local,
}

/// <param name="Mode">The way chosen.</param>
/// <param name="ContainerRuntime">With <see cref="InfrastructureMode.Containers"/>: the engine that answered (none when publishing).</param>
/// <param name="LocalTools">With <see cref="InfrastructureMode.Local"/>: the binaries found.</param>
public sealed record InfrastructureDecision(InfrastructureMode Mode, string? ContainerRuntime, LocalToolset? LocalTools);

/// <summary>Postgres and Redis cannot be run the way asked, or any way at all.</summary>
public sealed class InfrastructureUnavailableException(string message) : Exception(message);

/// <summary>
/// Chooses between containers and local executables: containers when an engine answers, local executables
/// otherwise; <c>Ava:Infrastructure</c> = <c>containers</c> | <c>local</c> forces one. Publishing always describes
/// containers: a deployment runs Postgres and Redis as images (or managed services), never as the build machine's
/// binaries, and nothing is started, so no engine is asked.
/// </summary>
public static class InfrastructureChoice
{
    public const string ConfigurationKey = "Ava:Infrastructure";

    private const string InstallEngine = "install and start Docker or Podman";
    private const string InstallLocal = "install PostgreSQL (server binaries) and redis-server, e.g. `sudo apt-get install postgresql redis-server`";

    /// <param name="requested"><c>auto</c> (or empty), <c>containers</c> or <c>local</c>.</param>
    /// <param name="publishing">The AppHost publishes (a manifest, a deployment) instead of running.</param>
    /// <param name="probeContainerRuntime">Asks the machine for an answering engine; only called when needed.</param>
    /// <param name="findLocalTools">Looks for the local binaries; only called when needed.</param>
    /// <exception cref="InfrastructureUnavailableException">The way asked for is impossible here.</exception>
    public static InfrastructureDecision Decide(
        string? requested,
        bool publishing,
        Func<string?> probeContainerRuntime,
        Func<LocalToolset> findLocalTools)
    {
        if (publishing)
        {
            return new(InfrastructureMode.Containers, ContainerRuntime: null, LocalTools: null);
        }

        switch (requested?.Trim().ToLowerInvariant())
        {
            case null or "" or "auto":
                if (probeContainerRuntime() is { } runtime)
                {
                    return new(InfrastructureMode.Containers, runtime, null);
                }

                var tools = findLocalTools();
                return tools.IsComplete
                    ? new(InfrastructureMode.Local, null, tools)
                    : throw new InfrastructureUnavailableException(
                        $"Ava cannot start Postgres and Redis: no container engine answered (docker info, podman info) " +
                        $"and the local way lacks {tools.DescribeMissing()}. Either {InstallEngine}, or {InstallLocal}.");

            case "containers":
                return probeContainerRuntime() is { } forcedRuntime
                    ? new(InfrastructureMode.Containers, forcedRuntime, null)
                    : throw new InfrastructureUnavailableException(
                        $"{ConfigurationKey} is 'containers' but no container engine answered (docker info, podman info). " +
                        $"Either {InstallEngine}, or set {ConfigurationKey} to 'local' or 'auto'.");

            case "local":
                var forcedTools = findLocalTools();
                return forcedTools.IsComplete
                    ? new(InfrastructureMode.Local, null, forcedTools)
                    : throw new InfrastructureUnavailableException(
                        $"{ConfigurationKey} is 'local' but this machine lacks {forcedTools.DescribeMissing()}. " +
                        $"Either {InstallLocal}, or set {ConfigurationKey} to 'containers' or 'auto'.");

            default:
                throw new InfrastructureUnavailableException(
                    $"{ConfigurationKey} must be 'auto', 'containers' or 'local', not '{requested}'.");
        }
    }

    /// <summary>
    /// What the local way lacks, when it is the way <see cref="Decide"/> would take when running here: nothing where
    /// an engine answers or containers are forced (an engine is not installed for anyone), else
    /// <see cref="LocalToolset.MissingPrerequisites"/>.
    /// </summary>
    public static IReadOnlyList<string> LocalPrerequisitesToInstall(
        string? requested,
        Func<string?> probeContainerRuntime,
        Func<LocalToolset> findLocalTools) =>
        requested?.Trim().ToLowerInvariant() switch
        {
            null or "" or "auto" => probeContainerRuntime() is null ? findLocalTools().MissingPrerequisites : [],
            "local" => findLocalTools().MissingPrerequisites,
            _ => [],
        };
}
