using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;

namespace Ava.Hosting.Local;

/// <summary>
/// Postgres and Redis as executables of the machine's own binaries, shown and health-checked in the dashboard
/// like their containers, and handing the services the same connection strings.
/// </summary>
internal static partial class LocalInfrastructureExtensions
{
    /// <param name="settings">Server settings (<c>name=value</c>) on top of the local ones.</param>
    public static IResourceBuilder<LocalPostgresServerResource> AddLocalPostgresServer(
        this IDistributedApplicationBuilder builder,
        string name,
        LocalToolset tools,
        LocalDataDirectory data,
        bool durable,
        IEnumerable<string> settings)
    {
        // Generated on the first run and kept in the AppHost's user-secrets (like jwt-secret), so that a developer's
        // cluster, which keeps its data across runs, keeps its password too.
        var superUserPassword = builder.AddParameter(
            LocalPostgresAuthentication.SuperUserPasswordParameter(name),
            new GenerateParameterDefault { MinLength = 32, Special = false },
            secret: true,
            persist: true);

        var (postgres, postgresArguments) = tools.CommandFor(tools.Postgres!);
        var server = new LocalPostgresServerResource(name, postgres, data.Root, superUserPassword.Resource);
        var serverBuilder = builder.AddResource(server)
            .WithEndpoint(name: LocalPostgresServerResource.PrimaryEndpointName, scheme: "tcp", env: "PGPORT", isProxied: false)
            .WithArgs([.. postgresArguments])
            .WithArgs("-D", data.PostgresData, "-c", "unix_socket_directories=")
            .WithArgs(context =>
            {
                context.Args.Add("-c");
                context.Args.Add($"listen_addresses={string.Join(',', ["localhost", .. server.LoginAddresses])}");
            })
            .WithArgs([.. settings.SelectMany(setting => new[] { "-c", setting })])
            .WithIconName("DatabaseMultiple");

        if (!durable)
        {
            // A test cluster lives for minutes and is deleted afterwards: durability buys nothing there.
            serverBuilder.WithArgs("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off");
        }

        if (!data.PostgresInitialised)
        {
            var (initdb, initdbArguments) = tools.CommandFor(tools.Initdb!);
            var init = builder.AddExecutable($"{name}-init", initdb, data.Root)
                .WithArgs([.. initdbArguments])
                .WithArgs("-D", data.PostgresData, "-U", LocalPostgresServerResource.SuperUser)
                .WithArgs([.. LocalPostgresAuthentication.InitdbArguments(data.PostgresPasswordFile)])
                .WithArgs("--encoding=UTF8", "--no-locale", "--no-instructions")
                // The first to start: the data directory is made for it (the password file goes there).
                .OnBeforeResourceStarted((_, _, _) =>
                {
                    data.Prepare(forLocalServers: true);
                    return Task.CompletedTask;
                })
                .WithSuperUserPasswordFile(data.PostgresPasswordFile, superUserPassword.Resource, tools.RunAsUser)
                .WithIconName("DatabaseArrowUp");
            serverBuilder.WaitForCompletion(init);
        }

        var serverCheck = $"{name}_check";
        builder.Services.AddHealthChecks().AddAsyncCheck(serverCheck, async cancellationToken =>
        {
            try
            {
                await using var connection = await OpenMaintenanceConnectionAsync(server, cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.InvalidPassword)
            {
                return HealthCheckResult.Unhealthy(
                    $"The cluster in {data.PostgresData} refuses the superuser's password (the AppHost parameter " +
                    $"{superUserPassword.Resource.Name}). Set Parameters:{superUserPassword.Resource.Name} " +
                    $"in the AppHost's user-secrets back to the password the cluster was given, or start clean with " +
                    $"{InfrastructureSettings.StartCleanKey}=true, which deletes the local data.",
                    exception);
            }
        });

        // Once the server answers, a cluster made when Ava used trust is switched to passwords.
        builder.Eventing.Subscribe<ResourceReadyEvent>(server, (@event, cancellationToken) => RequirePasswordsAsync(
            server, tools.RunAsUser, @event.Services.GetRequiredService<ResourceLoggerService>().GetLogger(server), cancellationToken));

        return serverBuilder.WithHealthCheck(serverCheck);
    }

    /// <summary>A database on the local server, created when missing.</summary>
    public static IResourceBuilder<LocalPostgresDatabaseResource> AddLocalDatabase(
        this IResourceBuilder<LocalPostgresServerResource> serverBuilder, string name)
    {
        var builder = serverBuilder.ApplicationBuilder;
        var server = serverBuilder.Resource;
        var database = new LocalPostgresDatabaseResource(name, name, server);

        // The orchestrator drives executables only: the database, a child of the server, gets its state from here.
        // Once the server answers, the database is created if missing and reported running; its own health check
        // then says whether it accepts connections, which is what resources waiting for it need.
        builder.Eventing.Subscribe<ResourceReadyEvent>(server, async (@event, cancellationToken) =>
        {
            await EnsureDatabaseExistsAsync(server, name, cancellationToken);
            await @event.Services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(database, state => state with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = DateTime.UtcNow,
            });
        });

        var databaseCheck = $"{name}_check";
        builder.Services.AddHealthChecks().AddAsyncCheck(databaseCheck, async cancellationToken =>
        {
            var connectionString = await database.ConnectionStringExpression.GetValueAsync(cancellationToken);
            await using var connection = new NpgsqlConnection($"{connectionString};Pooling=false;Timeout=3");
            await connection.OpenAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        });

        return builder.AddResource(database)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "PostgresDatabase",
                State = KnownResourceStates.NotStarted,
                Properties = [new(CustomResourceKnownProperties.Source, server.Name)],
            })
            .WithIconName("Database")
            .WithHealthCheck(databaseCheck);
    }

    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(
        this IDistributedApplicationBuilder builder,
        string name,
        LocalToolset tools,
        LocalDataDirectory data)
    {
        var redis = new LocalRedisResource(name, tools.RedisServer!, data.RedisData);
        var redisBuilder = builder.AddResource(redis)
            .WithEndpoint(name: LocalRedisResource.PrimaryEndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                context.Args.Add("--port");
                context.Args.Add(redis.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
            })
            // "-::1" binds IPv6 loopback where the machine has it, without failing where it does not.
            .WithArgs("--bind", "127.0.0.1", "-::1", "--dir", data.RedisData)
            .WithIconName("Memory");

        if (data.IsThrowaway)
        {
            redisBuilder.WithArgs("--save", "", "--appendonly", "no");
        }

        var check = $"{name}_check";
        ConnectionMultiplexer? multiplexer = null;
        builder.Services.AddHealthChecks().AddAsyncCheck(check, async cancellationToken =>
        {
            if (multiplexer is null)
            {
                var connectionString = await redis.ConnectionStringExpression.GetValueAsync(cancellationToken);
                multiplexer = await ConnectionMultiplexer.ConnectAsync($"{connectionString},abortConnect=true,connectTimeout=2000");
            }

            await multiplexer.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy();
        });

        return redisBuilder.WithHealthCheck(check);
    }

    private static async Task<NpgsqlConnection> OpenMaintenanceConnectionAsync(
        LocalPostgresServerResource server, CancellationToken cancellationToken)
    {
        var connectionString = await server.ConnectionStringExpression.GetValueAsync(cancellationToken);
        var connection = new NpgsqlConnection($"{connectionString};Database=postgres;Pooling=false;Timeout=3");
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// <summary>A cluster initialised when Ava still used trust asks for passwords from now on.</summary>
    private static async Task RequirePasswordsAsync(
        LocalPostgresServerResource server, string? clusterOwner, ILogger logger, CancellationToken cancellationToken)
    {
        var password = await server.SuperUserPassword.GetValueAsync(cancellationToken)
            ?? throw new InvalidOperationException($"The parameter {server.SuperUserPassword.Name} has no value.");
        await using var connection = await OpenMaintenanceConnectionAsync(server, cancellationToken);
        try
        {
            await LocalPostgresAuthentication.RequirePasswordsAsync(connection, password, clusterOwner, logger, cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or PostgresException or InfrastructureUnavailableException)
        {
            // The password is set before the rules change, so the cluster works either way; the next start tries again.
            LogPasswordsNotRequired(logger, exception);
        }
    }

    private static async Task EnsureDatabaseExistsAsync(
        LocalPostgresServerResource server, string databaseName, CancellationToken cancellationToken)
    {
        await using var connection = await OpenMaintenanceConnectionAsync(server, cancellationToken);

        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection);
        exists.Parameters.AddWithValue(databaseName);
        if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
        {
            return;
        }

        try
        {
            var quotedName = new NpgsqlCommandBuilder().QuoteIdentifier(databaseName);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {quotedName}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Created meanwhile by an earlier check that timed out: what we wanted.
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not make the cluster ask for passwords; it still admits local logins without one, and the next start tries again")]
    private static partial void LogPasswordsNotRequired(ILogger logger, Exception exception);
}
