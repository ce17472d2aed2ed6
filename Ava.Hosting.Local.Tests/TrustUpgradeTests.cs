using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Ava.Hosting.Local.Tests;

/// <summary>
/// A developer's cluster, initialised when Ava still used trust, is switched to passwords in place, once: its data
/// stays, and from then on every login needs its password. The test makes such a cluster the way the AppHost did
/// and runs it itself (the whole stack always starts on a new cluster).
/// </summary>
public sealed class TrustUpgradeTests
{
    private const string SuperUser = LocalPostgresServerResource.SuperUser;
    private const string Password = "the-superusers-password";
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(30);

    private readonly LocalToolset _tools = LocalToolset.Find(null);

    [Fact]
    public async Task A_cluster_initialised_with_trust_keeps_its_data_and_asks_for_passwords_from_then_on()
    {
        Assert.SkipWhen(
            _tools.Postgres is null || (_tools.RunningAsRoot && _tools.RunAsUser is null),
            "Needs PostgreSQL's server binaries (and, as root, the 'postgres' OS user).");
        var cancellationToken = TestContext.Current.CancellationToken;
        var data = LocalDataDirectory.Throwaway(_tools.RunAsUser);
        try
        {
            data.Prepare(forLocalServers: true);
            await RunToCompletionAsync(_tools.Initdb!, "-D", data.PostgresData, "-U", SuperUser, "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-instructions");
            var port = FreePort();

            await using (await StartServerAsync(data, port, password: null))
            {
                await using var superUser = await OpenAsync(port, password: null);
                await ExecuteAsync(superUser, "CREATE TABLE kept (note text)");
                await ExecuteAsync(superUser, "INSERT INTO kept VALUES ('written before the upgrade')");

                // As servers before PostgreSQL 14 did: passwords stored as MD5, which scram-sha-256 cannot check.
                await ExecuteAsync(superUser, "ALTER SYSTEM SET password_encryption = 'md5'");
                await ExecuteAsync(superUser, "SELECT pg_reload_conf()");
                await EventuallyAsync(async () =>
                {
                    await using var session = await OpenAsync(port, password: null);
                    return await ScalarAsync<string>(session, "SHOW password_encryption") == "md5";
                });

                Assert.True(await LocalPostgresAuthentication.RequirePasswordsAsync(superUser, Password, _tools.RunAsUser, NullLogger.Instance, cancellationToken));

                // The reload reaches new logins within moments.
                await EventuallyAsync(async () => await RefusalWithoutPasswordAsync(port) is not null);
                await using var withPassword = await OpenAsync(port, Password);
                Assert.False(await LocalPostgresAuthentication.RequirePasswordsAsync(withPassword, Password, _tools.RunAsUser, NullLogger.Instance, cancellationToken));
            }

            // The rewritten pg_hba.conf is the server's to read at its next start, and the data is all there.
            await using (await StartServerAsync(data, port, Password))
            {
                await using var superUser = await OpenAsync(port, Password);
                Assert.Equal("written before the upgrade", await ScalarAsync<string>(superUser, "SELECT note FROM kept"));

                var refused = await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(port, "not-the-password"));
                Assert.Equal(PostgresErrorCodes.InvalidPassword, refused.SqlState);
                Assert.Contains("No password has been provided but the backend requires one", (await RefusalWithoutPasswordAsync(port))?.Message, StringComparison.Ordinal);
            }
        }
        finally
        {
            data.DeleteIfThrowaway();
        }
    }

    private async Task RunToCompletionAsync(string binary, params string[] arguments)
    {
        using var process = Start(binary, arguments);
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, $"{binary} exited {process.ExitCode}: {await output}{await errors}");
    }

    private async Task<RunningServer> StartServerAsync(LocalDataDirectory data, int port, string? password)
    {
        var server = new RunningServer(Start(
            _tools.Postgres!,
            "-D", data.PostgresData, "-c", "listen_addresses=localhost", "-c", "unix_socket_directories=",
            "-c", string.Create(CultureInfo.InvariantCulture, $"port={port}"), "-c", "fsync=off"));
        try
        {
            await EventuallyAsync(async () =>
            {
                if (server.Process.HasExited)
                {
                    Assert.Fail($"postgres exited {server.Process.ExitCode}: {server.Output}");
                }

                try
                {
                    await using var connection = await OpenAsync(port, password);
                    return true;
                }
                catch (NpgsqlException)
                {
                    return false;
                }
            });
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private Process Start(string binary, params string[] arguments)
    {
        var (command, runAs) = _tools.CommandFor(binary);
        var startInfo = new ProcessStartInfo(command, [.. runAs, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        return Process.Start(startInfo) ?? throw new InvalidOperationException($"{binary} did not start.");
    }

    private static async Task<NpgsqlConnection> OpenAsync(int port, string? password)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = "localhost",
            Port = port,
            Username = SuperUser,
            Password = password,
            Database = "postgres",
            Pooling = false,
            Timeout = 3,
        }.ConnectionString);
        try
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <returns>Why a login without a password was refused, or null when it was let in.</returns>
    private static async Task<NpgsqlException?> RefusalWithoutPasswordAsync(int port)
    {
        try
        {
            await using var connection = await OpenAsync(port, password: null);
            return null;
        }
        catch (NpgsqlException refusal)
        {
            return refusal;
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < s_patience, "The condition did not hold in time.");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A postgres process of the test's own; disposing it shuts it down as pg_ctl's fast mode does.</summary>
    private sealed class RunningServer : IAsyncDisposable
    {
        private readonly StringBuilder _output = new();

        public RunningServer(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, line) => Append(line.Data);
            process.ErrorDataReceived += (_, line) => Append(line.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!Process.HasExited)
            {
                using var interrupt = Process.Start("kill", ["-INT", Process.Id.ToString(CultureInfo.InvariantCulture)]);
                await interrupt.WaitForExitAsync();
                using var timeout = new CancellationTokenSource(s_patience);
                await Process.WaitForExitAsync(timeout.Token);
            }

            Process.Dispose();
        }

        private void Append(string? line)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
