using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Ava.AppHost.Infrastructure;

/// <summary>
/// Where the local-executable Postgres and Redis keep their data: a development directory that survives restarts
/// (<c>.data/</c> beside the solution, ignored by git), or a throwaway one for tests that is removed when the
/// AppHost stops.
/// </summary>
internal sealed class LocalDataDirectory
{
    private const string ThrowawayPrefix = "ava-run-";

    private LocalDataDirectory(string root, bool throwaway)
    {
        Root = root;
        IsThrowaway = throwaway;
    }

    public string Root { get; }

    public bool IsThrowaway { get; }

    public string PostgresData => Path.Combine(Root, "postgres");

    public string RedisData => Path.Combine(Root, "redis");

    public bool PostgresInitialised => File.Exists(Path.Combine(PostgresData, "PG_VERSION"));

    /// <summary>Where <c>initdb</c> reads the superuser's password, for as long as it runs.</summary>
    public string PostgresPasswordFile => Path.Combine(Root, "postgres-init-password");

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

        if (startClean && Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }

        return Prepare(new LocalDataDirectory(root, throwaway: false), runAsUser);
    }

    public static LocalDataDirectory CreateThrowaway(string? runAsUser)
    {
        RemoveThrowawaysOfDeadRuns();
        var name = string.Create(CultureInfo.InvariantCulture, $"{ThrowawayPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        return Prepare(new LocalDataDirectory(Path.Combine(Path.GetTempPath(), name), throwaway: true), runAsUser);
    }

    public void DeleteIfThrowaway()
    {
        if (IsThrowaway && Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    private static LocalDataDirectory Prepare(LocalDataDirectory directory, string? runAsUser)
    {
        Directory.CreateDirectory(directory.Root);
        Directory.CreateDirectory(directory.RedisData);
        if (!Directory.Exists(directory.PostgresData))
        {
            Directory.CreateDirectory(directory.PostgresData);
            if (!OperatingSystem.IsWindows())
            {
                // initdb insists on a data directory only its owner can read.
                File.SetUnixFileMode(directory.PostgresData, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            if (runAsUser is not null)
            {
                ChangeOwner(directory.PostgresData, runAsUser);
            }
        }

        return directory;
    }

    /// <summary>A crashed or killed test run leaves its directory behind; the next run removes it.</summary>
    private static void RemoveThrowawaysOfDeadRuns()
    {
        foreach (var leftover in Directory.EnumerateDirectories(Path.GetTempPath(), ThrowawayPrefix + "*"))
        {
            var pidText = Path.GetFileName(leftover)[ThrowawayPrefix.Length..].Split('-')[0];
            if (int.TryParse(pidText, CultureInfo.InvariantCulture, out var pid) && !ProcessIsAlive(pid))
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
