using System.Diagnostics;

namespace Ava.Hosting.Local;

/// <summary>
/// The named volumes of a throwaway run on containers (tests where an engine answers). Aspire starts a stopped container
/// afresh (the dashboard's stop and start, an outage test), so one without a volume would come back empty; with one it
/// comes back with its data, as a development run's does. The volumes go when the run ends, and the next run removes
/// those a killed run left.
/// </summary>
internal sealed class ThrowawayVolumes(string runtime, string runName)
{
    private static readonly TimeSpan s_removalPatience = TimeSpan.FromSeconds(15);

    private readonly Lock _lock = new();
    private readonly List<string> _names = [];

    /// <summary>A volume of this run, named after it.</summary>
    public string Add(string purpose)
    {
        var name = $"{runName}-{purpose}";
        lock (_lock)
        {
            _names.Add(name);
        }

        return name;
    }

    /// <summary>
    /// Removes this run's volumes. The orchestrator may still be removing the containers that use them, and the engine
    /// refuses to remove a volume in use, so each is tried again for a while.
    /// </summary>
    public void RemoveAll()
    {
        string[] names;
        lock (_lock)
        {
            names = [.. _names];
        }

        foreach (var name in names)
        {
            var patience = Stopwatch.StartNew();
            while (!ContainerEngine.TryRun(runtime, ["volume", "rm", "--force", name], out _) && patience.Elapsed < s_removalPatience)
            {
                Thread.Sleep(TimeSpan.FromMilliseconds(250));
            }
        }
    }

    /// <summary>Removes the volumes that throwaway runs no longer running left behind.</summary>
    public void RemoveThoseOfDeadRuns()
    {
        if (!ContainerEngine.TryRun(runtime, ["volume", "ls", "--quiet", "--filter", $"name={LocalDataDirectory.ThrowawayPrefix}"], out var listed))
        {
            return;
        }

        foreach (var name in listed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (LocalDataDirectory.IsOfDeadThrowawayRun(name))
            {
                ContainerEngine.TryRun(runtime, ["volume", "rm", "--force", name], out _);
            }
        }
    }
}
