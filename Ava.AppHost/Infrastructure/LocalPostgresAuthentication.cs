using System.Text;

namespace Ava.AppHost.Infrastructure;

/// <summary>
/// Password authentication of the local cluster on TCP, so that the roles the migrations create are as separate in
/// development and tests as in containers: no local process logs in as another role, the superuser included,
/// without that role's password.
/// </summary>
internal static class LocalPostgresAuthentication
{
    /// <summary>
    /// The AppHost parameter holding the superuser's password: generated on the first run and kept in the AppHost's
    /// user-secrets, so a developer's cluster keeps working across runs. Aspire's Postgres container keeps its
    /// password under the same name.
    /// </summary>
    public const string SuperUserPasswordParameter = "postgres-password";

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
}
