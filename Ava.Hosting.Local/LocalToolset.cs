namespace Ava.Hosting.Local;

/// <summary>The binaries and OS user the local-executable infrastructure needs.</summary>
/// <param name="Postgres">Path of the <c>postgres</c> server binary.</param>
/// <param name="Initdb">Path of <c>initdb</c>, from the same installation.</param>
/// <param name="RedisServer">Path of <c>redis-server</c>.</param>
/// <param name="RunAsUser">
/// The unprivileged OS user Postgres runs as when the AppHost runs as root (Postgres refuses root); null otherwise.
/// </param>
/// <param name="RunningAsRoot">Whether the AppHost runs as root.</param>
public sealed record LocalToolset(string? Postgres, string? Initdb, string? RedisServer, string? RunAsUser, bool RunningAsRoot)
{
    public const string PostgresBinDirectoryKey = "Ava:Local:PostgresBinDirectory";
    public const string UnprivilegedUser = "postgres";

    public IReadOnlyList<string> Missing =>
    [
        .. Postgres is null || Initdb is null ? ["the PostgreSQL server binaries (postgres, initdb)"] : Array.Empty<string>(),
        .. RedisServer is null ? ["redis-server"] : Array.Empty<string>(),
        .. RunningAsRoot && RunAsUser is null
            ? [$"an unprivileged '{UnprivilegedUser}' OS user to run PostgreSQL as (the AppHost runs as root)"]
            : Array.Empty<string>(),
    ];

    /// <summary>
    /// <see cref="Missing"/> as <c>scripts/prerequisites.sh</c> installs it: <c>package NAME</c> (Debian's) and
    /// <c>user NAME</c> (an OS user to create).
    /// </summary>
    public IReadOnlyList<string> MissingPrerequisites =>
    [
        .. Postgres is null || Initdb is null ? ["package postgresql"] : Array.Empty<string>(),
        .. RedisServer is null ? ["package redis-server"] : Array.Empty<string>(),
        .. RunningAsRoot && RunAsUser is null ? [$"user {UnprivilegedUser}"] : Array.Empty<string>(),
    ];

    public bool IsComplete => Missing.Count == 0;

    public string DescribeMissing() => string.Join(" and ", Missing);

    /// <summary>
    /// How to run a PostgreSQL binary: itself, or as root as the unprivileged user through setpriv (Postgres
    /// refuses root). setpriv exec()s the binary, so the orchestrator's stop signal reaches Postgres itself.
    /// </summary>
    public (string Command, IReadOnlyList<string> Arguments) CommandFor(string binary) => RunAsUser is { } user
        ? ("setpriv", [$"--reuid={user}", $"--regid={user}", "--init-groups", "--", binary])
        : (binary, []);

    /// <summary>Looks on the PATH and in Debian's <c>/usr/lib/postgresql/N/bin</c>, newest version first.</summary>
    public static LocalToolset Find(string? postgresBinDirectory)
    {
        string[] postgresDirectories = string.IsNullOrWhiteSpace(postgresBinDirectory)
            ? [.. PathDirectories(), .. DebianPostgresDirectories()]
            : [postgresBinDirectory];

        // postgres and initdb must come from one installation: take the first directory that has both.
        var postgresHome = postgresDirectories.FirstOrDefault(d => IsExecutable(d, "postgres") && IsExecutable(d, "initdb"));
        var redisHome = PathDirectories().FirstOrDefault(d => IsExecutable(d, "redis-server"));
        var runningAsRoot = Environment.UserName == "root";

        return new LocalToolset(
            Postgres: postgresHome is null ? null : Path.Combine(postgresHome, "postgres"),
            Initdb: postgresHome is null ? null : Path.Combine(postgresHome, "initdb"),
            RedisServer: redisHome is null ? null : Path.Combine(redisHome, "redis-server"),
            RunAsUser: runningAsRoot && OsUserExists(UnprivilegedUser) ? UnprivilegedUser : null,
            RunningAsRoot: runningAsRoot);
    }

    private static IEnumerable<string> PathDirectories() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);

    private static IEnumerable<string> DebianPostgresDirectories()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return [];
        }

        return Directory.EnumerateDirectories(root)
            .Select(d => (Directory: d, Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
            .OrderByDescending(d => d.Version)
            .Select(d => Path.Combine(d.Directory, "bin"));
    }

    private static bool IsExecutable(string directory, string name)
    {
        var path = Path.Combine(directory, name);
        return File.Exists(path)
            && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0);
    }

    private static bool OsUserExists(string user) =>
        File.Exists("/etc/passwd")
        && File.ReadLines("/etc/passwd").Any(line => line.StartsWith(user + ":", StringComparison.Ordinal));
}
