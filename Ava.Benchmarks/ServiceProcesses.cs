using System.Diagnostics;
using System.Globalization;

namespace Ava.Benchmarks;

/// <summary>One process of the stack, as Linux shows it in <c>/proc</c>.</summary>
public sealed record ServiceProcess(int Pid, string Name, IReadOnlyList<string> Arguments)
{
    /// <summary>Linux counts CPU time in clock ticks of 1/100 s (USER_HZ) on every architecture .NET runs on.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>The build the service runs, read from the path of its binary (…/bin/Release/…).</summary>
    public string Build => Arguments.Select(a => a.Replace('\\', '/')).FirstOrDefault(a => a.Contains("/bin/", StringComparison.Ordinal)) is { } binary
        ? binary.Split('/').SkipWhile(part => part != "bin").Skip(1).FirstOrDefault() ?? "?"
        : "?";

    /// <summary>Peak resident set size (VmHWM), or null once the process is gone.</summary>
    public long? PeakResidentBytes()
    {
        var status = ServiceProcesses.TryRead($"/proc/{Pid}/status");
        var line = status?.Split('\n').FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>A variable of the environment the process was started with (readable for our own user's processes).</summary>
    public string? EnvironmentVariable(string name) => ServiceProcesses.TryRead($"/proc/{Pid}/environ")?
        .Split('\0')
        .FirstOrDefault(entry => entry.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..];

    /// <summary>
    /// The local ports of the process's open TCP connections to <paramref name="remotePort"/> on this machine (e.g. its
    /// pooled connections to the Graph API stand-in): what tells whose sends arrived over which connection.
    /// </summary>
    public IReadOnlySet<int> LocalPortsConnectedTo(int remotePort)
    {
        var sockets = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var descriptor in Directory.EnumerateFileSystemEntries($"/proc/{Pid}/fd"))
            {
                if (new FileInfo(descriptor).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    sockets.Add(target["socket:[".Length..^1]);
                }
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return new HashSet<int>();
        }

        // "sl local_address rem_address st … inode": addresses as hex IP:port; the process's own network namespace.
        var ports = new HashSet<int>();
        foreach (var table in new[] { $"/proc/{Pid}/net/tcp", $"/proc/{Pid}/net/tcp6" })
        {
            foreach (var line in (ServiceProcesses.TryRead(table) ?? "").Split('\n').Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && sockets.Contains(fields[9]) && Port(fields[2]) == remotePort)
                {
                    ports.Add(Port(fields[1]));
                }
            }
        }

        return ports;

        static int Port(string address) => int.Parse(address.AsSpan(address.LastIndexOf(':') + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    /// <summary>CPU time used so far (user + system), or null once the process is gone.</summary>
    public TimeSpan? CpuTime()
    {
        var stat = ServiceProcesses.TryRead($"/proc/{Pid}/stat");
        if (stat is null)
        {
            return null;
        }

        // After the command name in parentheses: state, ppid, …; utime and stime are the 14th and 15th fields.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }
}

/// <summary>
/// Finds the stack's processes in this process's tree: its descendants, and those of the orchestrator (DCP), which
/// runs detached but is started to watch this process (<c>--monitor &lt;pid&gt;</c>). Other stacks running on the same
/// machine are never mistaken for ours.
/// </summary>
public static class ServiceProcesses
{
    /// <summary>
    /// The processes running a .NET project's own binary (<c>Ava.WebhookApi</c> or <c>Ava.WebhookApi.dll</c>), one per
    /// replica; the <c>dotnet run</c> that launched each is left out.
    /// </summary>
    public static IReadOnlyList<ServiceProcess> OfProject(string assemblyName) => OurProcessTree()
        .Where(p => !p.Arguments.Contains("run")
            && p.Arguments.Any(a => Path.GetFileName(a) is var file && (file == assemblyName || file == assemblyName + ".dll")))
        .ToList();

    /// <summary>Processes whose executable is named so (e.g. every Postgres backend and helper, whatever their title).</summary>
    public static IReadOnlyList<ServiceProcess> OfExecutable(string executableName) => OurProcessTree()
        .Where(p => p.Name == executableName)
        .ToList();

    /// <summary>The current process itself (the load generator and the Graph API stand-in).</summary>
    public static ServiceProcess Self() => new(Environment.ProcessId, "self", Environment.GetCommandLineArgs());

    internal static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static List<ServiceProcess> OurProcessTree()
    {
        var parents = new Dictionary<int, int>();
        var names = new Dictionary<int, string>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && TryRead($"/proc/{pid}/stat") is { } stat)
            {
                // "pid (name) state ppid …": the name may itself contain spaces and parentheses.
                var nameEnd = stat.LastIndexOf(')');
                names[pid] = stat[(stat.IndexOf('(') + 1)..nameEnd];
                parents[pid] = int.Parse(stat[(nameEnd + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
            }
        }

        var all = parents.Keys.ToDictionary(
            pid => pid,
            pid => new ServiceProcess(pid, names[pid], (TryRead($"/proc/{pid}/cmdline") ?? "").Split('\0', StringSplitOptions.RemoveEmptyEntries)));
        var self = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var roots = all.Values
            .Where(p => p.Pid == Environment.ProcessId || p.Arguments.Zip(p.Arguments.Skip(1)).Contains(("--monitor", self)))
            .Select(p => p.Pid)
            .ToHashSet();

        bool InTree(int pid)
        {
            for (var hops = 0; hops < 64 && parents.TryGetValue(pid, out var parent) && parent > 1; hops++, pid = parent)
            {
                if (roots.Contains(parent))
                {
                    return true;
                }
            }

            return false;
        }

        return all.Values.Where(p => InTree(p.Pid)).ToList();
    }
}

/// <summary>
/// CPU time a group of processes spends between start and stop, found again at stop so that processes started
/// meanwhile (a new Postgres backend) count too.
/// </summary>
public sealed class CpuMeter
{
    private readonly Func<IReadOnlyList<ServiceProcess>> _find;
    private readonly Dictionary<int, TimeSpan> _atStart;
    private readonly long _startedAt = Stopwatch.GetTimestamp();

    private CpuMeter(Func<IReadOnlyList<ServiceProcess>> find)
    {
        _find = find;
        _atStart = find().ToDictionary(p => p.Pid, p => p.CpuTime() ?? TimeSpan.Zero);
    }

    public static CpuMeter Start(Func<IReadOnlyList<ServiceProcess>> find) => new(find);

    /// <summary>CPU used since start, as a share of one core (100 = one core busy all the time).</summary>
    public double PercentOfOneCore()
    {
        var wall = Stopwatch.GetElapsedTime(_startedAt);
        var used = _find().Aggregate(TimeSpan.Zero, (sum, p) => sum + ((p.CpuTime() ?? TimeSpan.Zero) - _atStart.GetValueOrDefault(p.Pid)));
        return used / wall * 100;
    }
}
