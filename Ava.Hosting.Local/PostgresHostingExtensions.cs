namespace Ava.Hosting.Local;

/// <summary>
/// Postgres either way: Aspire's container where an engine answers and whenever the AppHost publishes, the machine's
/// own binaries as executables otherwise. The resources that reference it see the same connection strings.
/// </summary>
public static class PostgresHostingExtensions
{
    /// <summary>A Postgres server; its superuser's password is the parameter <c>{name}-password</c>.</summary>
    /// <param name="dataVolumeName">The container's data volume (a development run keeps it across restarts).</param>
    /// <param name="settings">Server settings, <c>name=value</c>, applied either way.</param>
    /// <exception cref="InfrastructureUnavailableException">Postgres cannot run here (see <see cref="InfrastructureSettings.TryChooseInfrastructure"/>).</exception>
    public static IResourceBuilder<IResourceWithConnectionString> AddPostgresServer(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, string dataVolumeName, IEnumerable<string> settings)
    {
        var stack = StackInfrastructure.Of(builder);
        if (!stack.RunsContainers)
        {
            return stack.PreparesData(builder.AddLocalPostgresServer(name, stack.Decision.LocalTools!, stack.Data!, stack.DurablePostgres, settings));
        }

        var postgres = builder.AddPostgres(name).WithArgs([.. settings.SelectMany(setting => new[] { "-c", setting })]);
        if (!stack.Throwaway)
        {
            postgres.WithDataVolume(dataVolumeName).WithLifetime(ContainerLifetime.Persistent);
        }
        else if (stack.Volumes is { } throwawayVolumes)
        {
            postgres.WithDataVolume(throwawayVolumes.Add(dataVolumeName)).OnBeforeResourceStarted((_, _, _) =>
            {
                throwawayVolumes.RemoveThoseOfDeadRuns();
                return Task.CompletedTask;
            });
        }

        return postgres;
    }

    /// <summary>A database on a server of <see cref="AddPostgresServer"/>, created when missing.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddDatabase(
        this IResourceBuilder<IResourceWithConnectionString> server, [ResourceName] string name) => server switch
        {
            IResourceBuilder<PostgresServerResource> container => PostgresBuilderExtensions.AddDatabase(container, name),
            IResourceBuilder<LocalPostgresServerResource> local => local.AddLocalDatabase(name),
            _ => throw new ArgumentException($"{server.Resource.Name} is not a Postgres server of {nameof(AddPostgresServer)}.", nameof(server)),
        };

    /// <summary>
    /// The database as another login than the superuser its server hands out: a connection string of its own (host,
    /// port, database, <paramref name="role"/> and its password), to reference instead of the database, so that a
    /// service never sees the superuser's password. The role and its password are the database's to create.
    /// </summary>
    /// <remarks>
    /// Each login also gets an address of its own while the AppHost runs: the dashboard names a database span's peer
    /// after the resource whose address it matches, and logins sharing the server's address would all show as whichever
    /// of them it finds first. The local server listens on a loopback address per login; a container publishes its
    /// port once more per login. (A published deployment has no such dashboard, and one port.)
    /// </remarks>
    public static IResourceBuilder<ConnectionStringResource> AddLogin(
        this IResourceBuilder<IResourceWithConnectionString> database,
        [ResourceName] string name,
        string role,
        IResourceBuilder<ParameterResource> password)
    {
        var builder = database.ApplicationBuilder;
        var (server, databaseName, ownHost) = database.Resource switch
        {
            PostgresDatabaseResource container => (ContainerPortOfLogin(builder, container.Parent, name), container.DatabaseName, null),
            LocalPostgresDatabaseResource local => (local.Parent.PrimaryEndpoint, local.DatabaseName, local.Parent.AddLoginAddress()),
            _ => throw new ArgumentException($"{database.Resource.Name} is not a database of {nameof(AddDatabase)}.", nameof(database)),
        };

        var host = ownHost is null ? ReferenceExpression.Create($"{server.Property(EndpointProperty.Host)}") : ReferenceExpression.Create($"{ownHost}");
        return builder.AddConnectionString(name, ReferenceExpression.Create(
            $"Host={host};Port={server.Property(EndpointProperty.Port)};Username={role};Password={password.Resource};Database={databaseName}"));
    }

    /// <summary>While running: the server's port published once more, under the login's name; when publishing: the server's port.</summary>
    private static EndpointReference ContainerPortOfLogin(IDistributedApplicationBuilder builder, PostgresServerResource server, string login)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return server.PrimaryEndpoint;
        }

        var serverPort = server.PrimaryEndpoint.EndpointAnnotation;
        builder.CreateResourceBuilder(server).WithEndpoint(targetPort: serverPort.TargetPort, scheme: serverPort.UriScheme, name: login);
        return server.GetEndpoint(login);
    }
}
