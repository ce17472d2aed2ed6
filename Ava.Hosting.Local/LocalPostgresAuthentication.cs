using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ava.Hosting.Local;

/// <summary>
/// Password authentication of the local cluster on TCP, so that the roles the migrations create are as separate in
/// development and tests as in containers: no local process logs in as another role, the superuser included,
/// without that role's password.
/// </summary>
internal static partial class LocalPostgresAuthentication
{
    /// <summary>
    /// The AppHost parameter holding the superuser's password: generated on the first run and kept in the AppHost's
    /// user-secrets, so a developer's cluster keeps working across runs. Aspire's Postgres container names its
    /// password the same way.
    /// </summary>
    public static string SuperUserPasswordParameter(string serverName) => $"{serverName}-password";

    /// <summary>The arguments with which <c>initdb</c> creates a cluster that asks for passwords.</summary>
    /// <param name="passwordFile">Where <c>initdb</c> reads the superuser's password (see <see cref="WithSuperUserPasswordFile"/>).</param>
    public static IEnumerable<string> InitdbArguments(string passwordFile) =>
        [$"--auth-host={PgHbaConf.HostMethod}", $"--auth-local={PgHbaConf.LocalMethod}", $"--pwfile={passwordFile}"];

    /// <summary>
    /// <c>initdb</c> takes the superuser's password from a file. The file is written just before <c>initdb</c>
    /// starts, readable by the user Postgres runs as and nobody else, and removed once <c>initdb</c> has exited.
    /// </summary>
    /// <param name="clusterOwner">The OS user Postgres runs as, when that is not the AppHost's own user.</param>
    public static IResourceBuilder<ExecutableResource> WithSuperUserPasswordFile(
        this IResourceBuilder<ExecutableResource> initdb, string passwordFile, ParameterResource password, string? clusterOwner)
    {
        return initdb
            .OnBeforeResourceStarted(async (_, _, cancellationToken) =>
            {
                var value = await password.GetValueAsync(cancellationToken)
                    ?? throw new InvalidOperationException($"The parameter {password.Name} has no value.");
                File.Delete(passwordFile);
                WriteFileFor(passwordFile, value + "\n", UnixFileMode.UserRead | UnixFileMode.UserWrite, clusterOwner);
            })
            .OnResourceStopped((_, _, _) =>
            {
                File.Delete(passwordFile);
                return Task.CompletedTask;
            });
    }

    /// <summary>
    /// Makes a cluster initialised when Ava still used <c>trust</c> ask for passwords: gives the superuser its
    /// password, switches the <c>trust</c> records of <c>pg_hba.conf</c> (see <see cref="PgHbaConf"/>) and reloads the
    /// configuration. Does nothing to a cluster without <c>trust</c> records, so it runs at every start; the data
    /// is not touched.
    /// </summary>
    /// <param name="superUser">A connection as the superuser, still admitted by <c>trust</c> when there is work to do.</param>
    /// <param name="password">The superuser's password from now on.</param>
    /// <param name="clusterOwner">The OS user Postgres runs as, when that is not the AppHost's own user.</param>
    /// <returns>Whether the cluster used <c>trust</c> and asks for passwords now.</returns>
    public static async Task<bool> RequirePasswordsAsync(
        NpgsqlConnection superUser, string password, string? clusterOwner, ILogger logger, CancellationToken cancellationToken)
    {
        var hbaFile = await ScalarAsync<string>(superUser, "SHOW hba_file", cancellationToken);
        var current = await File.ReadAllTextAsync(hbaFile, cancellationToken);
        if (!PgHbaConf.TryReplaceTrust(current, out var upgraded))
        {
            return false;
        }

        // Servers before PostgreSQL 14 store passwords as MD5 by default, which scram-sha-256 cannot check: store them
        // as SCRAM from now on, as initdb does for a cluster it creates with scram-sha-256.
        if (await ScalarAsync<string>(superUser, "SHOW password_encryption", cancellationToken) != PgHbaConf.HostMethod)
        {
            await ExecuteAsync(superUser, $"ALTER SYSTEM SET password_encryption = '{PgHbaConf.HostMethod}'", cancellationToken);
            await ExecuteAsync(superUser, $"SET password_encryption = '{PgHbaConf.HostMethod}'", cancellationToken);
        }

        // The password before the rules: until they are reloaded trust still admits the superuser, so a failure
        // anywhere below leaves a cluster that works as before and is upgraded at the next start.
        await SetPasswordAsync(superUser, LocalPostgresServerResource.SuperUser, password, cancellationToken);
        ReplaceFile(hbaFile, upgraded, clusterOwner);

        // A file the server cannot read would keep it from starting next time: put the old one back instead.
        if (!await ServerReadsAsync(superUser, cancellationToken))
        {
            ReplaceFile(hbaFile, current, clusterOwner);
            LogUpgradeRefused(logger, hbaFile);
            return false;
        }

        await ExecuteAsync(superUser, "SELECT pg_reload_conf()", cancellationToken);
        LogUpgraded(logger, hbaFile);
        return true;
    }

    /// <summary>Whether the server reads the pg_hba.conf on disk without an error, as it will at its next start.</summary>
    private static async Task<bool> ServerReadsAsync(NpgsqlConnection superUser, CancellationToken cancellationToken)
    {
        try
        {
            return await ScalarAsync<long>(superUser, "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL", cancellationToken) == 0;
        }
        catch (PostgresException)
        {
            // E.g. not allowed to open it.
            return false;
        }
    }

    /// <summary>ALTER ROLE takes no parameters: the server quotes role and password into the statement.</summary>
    private static async Task SetPasswordAsync(NpgsqlConnection connection, string role, string password, CancellationToken cancellationToken)
    {
        await using var format = new NpgsqlCommand("SELECT format('ALTER ROLE %I PASSWORD %L', $1, $2)", connection);
        format.Parameters.AddWithValue(role);
        format.Parameters.AddWithValue(password);
        var alterRole = (string)(await format.ExecuteScalarAsync(cancellationToken))!;
        await ExecuteAsync(connection, alterRole, cancellationToken);
    }

    /// <summary>Replaces a file whole or not at all (a new file, synced, renamed over the old one), keeping its mode.</summary>
    private static void ReplaceFile(string path, string contents, string? owner)
    {
        var replacement = path + ".new";
        File.Delete(replacement);
        WriteFileFor(replacement, contents, OperatingSystem.IsWindows() ? null : File.GetUnixFileMode(path), owner);
        File.Move(replacement, path, overwrite: true);
    }

    /// <summary>
    /// Writes a new file, created with <paramref name="mode"/> so that it is never readable by more than it should be,
    /// and hands it to <paramref name="owner"/>.
    /// </summary>
    private static void WriteFileFor(string path, string contents, UnixFileMode? mode, string? owner)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        using (var stream = new FileStream(path, options))
        {
            stream.Write(Encoding.UTF8.GetBytes(contents));
            stream.Flush(flushToDisk: true);
        }

        if (owner is not null)
        {
            LocalDataDirectory.ChangeOwner(path, owner);
        }
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The cluster admitted local logins without a password; {HbaFile} now asks for passwords on TCP (scram-sha-256)")]
    private static partial void LogUpgraded(ILogger logger, string hbaFile);

    [LoggerMessage(Level = LogLevel.Error, Message = "The server could not read {HbaFile} with passwords required, so it is left as it was and still admits local logins without a password; see pg_hba_file_rules")]
    private static partial void LogUpgradeRefused(ILogger logger, string hbaFile);
}
