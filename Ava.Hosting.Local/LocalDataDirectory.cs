using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Ava.Hosting.Local;

/// <summary>
/// Where the stack keeps its local state — the local-executable Postgres and Redis data, the services' state
/// directories (the webhook's spool): a development directory that survives restarts (<c>.data/</c> beside the
/// solution, ignored by git), or a throwaway one for tests that is removed when the AppHost stops. Naming it has no
/// effect on the disk; <see cref="Prepare"/> makes it just before the first resource that uses it starts, so a model
/// that is only built (and never started) or published leaves nothing behind.
/// </summary>
internal sealed class LocalDataDirectory
{
    /// <summary>How a throwaway run's names begin (its directory, its containers' volumes): then the process id of the AppHost.</summary>
    internal const string ThrowawayPrefix = "ava-run-";

    private readonly string? _runAsUser;
    private readonly bool _startClean;
    private readonly Lock _preparation = new();
    private bool _prepared;

    private LocalDataDirectory(string root, bool throwaway, string? runAsUser, bool startClean)
    {
        Root = root;
        IsThrowaway = throwaway;
        _runAsUser = runAsUser;
        _startClean = startClean;
    }

    public string Root { get; }

    public bool IsThrowaway { get; }

    /// <summary>The directory's own name: a throwaway run's name (<see cref="ThrowawayPrefix"/>, process id, a unique part).</summary>
    public string Name => Path.GetFileName(Root);

    public string PostgresData => Path.Combine(Root, "postgres");

    public string RedisData => Path.Combine(Root, "redis");

    /// <summary>Whether a cluster is there to start, and will still be once the directory is prepared.</summary>
    public bool PostgresInitialised => !_startClean && File.Exists(Path.Combine(PostgresData, "PG_VERSION"));

    /// <summary>Where <c>initdb</c> reads the superuser's password, for as long as it runs.</summary>
    public string PostgresPasswordFile => Path.Combine(Root, "postgres-init-password");

    /// <param name="runAsUser">The OS user Postgres runs as, when not the AppHost's own: it must reach the directory.</param>
    /// <param name="startClean">Wipe the directory when the stack starts.</param>
    public static LocalDataDirectory ForDevelopment(string solutionDirectory, string? runAsUser, bool startClean)
    {
        var root = Path.Combine(solutionDirectory, ".data");

        // Postgres runs as another user, who must be able to reach the directory; a checkout in a private home
        // (e.g. /root) is not reachable, so its data goes to a per-checkout directory under /var/tmp instead.
        if (runAsUser is not null && !ReachableByOthers(solutionDirectory))
        {
            var checkoutId = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(solutionDirectory)))[..12];
            root = Path.Combine("/var/tmp", $"ava-dev-{checkoutId}");
        }

        return new LocalDataDirectory(root, throwaway: false, runAsUser, startClean);
    }

    /// <summary>A new directory under the temporary folder, named after this process so that a later run can tell it is left over.</summary>
    public static LocalDataDirectory Throwaway(string? runAsUser)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"{ThrowawayPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        return new LocalDataDirectory(Path.Combine(Path.GetTempPath(), name), throwaway: true, runAsUser, startClean: false);
    }

    /// <summary>
    /// Makes the directory as the stack needs it: throwaways of dead runs swept, the development data wiped when
    /// asked and, for local servers, Postgres' data directory its own user's alone. Once is enough.
    /// </summary>
    /// <param name="forLocalServers">Postgres and Redis run from this directory (not in containers).</param>
    public void Prepare(bool forLocalServers)
    {
        lock (_preparation)
        {
            if (!_prepared)
            {
                PrepareOnce(forLocalServers);
                _prepared = true;
            }
        }
    }

    private void PrepareOnce(bool forLocalServers)
    {
        if (IsThrowaway)
        {
            RemoveThrowawaysOfDeadRuns();
        }
        else if (_startClean && Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }

        Directory.CreateDirectory(Root);
        if (!forLocalServers)
        {
            return;
        }

        Directory.CreateDirectory(RedisData);
        if (!Directory.Exists(PostgresData))
        {
            Directory.CreateDirectory(PostgresData);
            if (!OperatingSystem.IsWindows())
            {
                // initdb insists on a data directory only its owner can read.
                File.SetUnixFileMode(PostgresData, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            if (_runAsUser is not null)
            {
                ChangeOwner(PostgresData, _runAsUser);
            }
        }

        // initdb's password file exists only while initdb runs; a run that died meanwhile left it behind.
        File.Delete(PostgresPasswordFile);
    }

    public void DeleteIfThrowaway()
    {
        if (IsThrowaway && Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    /// <summary>A crashed or killed test run leaves its directory behind; the next run removes it.</summary>
    private static void RemoveThrowawaysOfDeadRuns()
    {
        foreach (var leftover in Directory.EnumerateDirectories(Path.GetTempPath(), ThrowawayPrefix + "*"))
        {
            if (IsOfDeadThrowawayRun(Path.GetFileName(leftover)))
            {
                try
                {
                    Directory.Delete(leftover, recursive: true);
                }
                catch (IOException)
                {
                    // Another run is sweeping it at the same moment.
                }
            }
        }
    }

    /// <summary>Whether a name is a throwaway run's whose AppHost is no longer running.</summary>
    internal static bool IsOfDeadThrowawayRun(string name) =>
        name.StartsWith(ThrowawayPrefix, StringComparison.Ordinal)
        && int.TryParse(name[ThrowawayPrefix.Length..].Split('-')[0], CultureInfo.InvariantCulture, out var pid)
        && !ProcessIsAlive(pid);

    private static bool ProcessIsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static bool ReachableByOthers(string directory)
    {
        for (var current = new DirectoryInfo(directory); current is not null; current = current.Parent)
        {
            if ((current.UnixFileMode & UnixFileMode.OtherExecute) == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Hands a file or directory to the OS user Postgres runs as.</summary>
    internal static void ChangeOwner(string path, string user)
    {
        using var chown = Process.Start("chown", [$"{user}:", path]);
        chown.WaitForExit();
        if (chown.ExitCode != 0)
        {
            throw new InfrastructureUnavailableException($"Could not hand {path} to the '{user}' user (chown exited {chown.ExitCode}).");
        }
    }
}
