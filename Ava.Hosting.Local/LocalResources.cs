namespace Ava.Hosting.Local;

/// <summary>A PostgreSQL server run from the machine's own binaries, on a port the orchestrator allocates.</summary>
/// <param name="superUserPassword">The password the superuser logs in with (TCP logins need one).</param>
public sealed class LocalPostgresServerResource(string name, string command, string workingDirectory, ParameterResource superUserPassword)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string PrimaryEndpointName = "tcp";

    /// <summary>The cluster's superuser, created by initdb.</summary>
    public const string SuperUser = "postgres";

    private EndpointReference? _primaryEndpoint;

    public EndpointReference PrimaryEndpoint => _primaryEndpoint ??= new(this, PrimaryEndpointName);

    public ParameterResource SuperUserPassword { get; } = superUserPassword;

    private readonly List<string> _loginAddresses = [];

    /// <summary>The loopback addresses the server listens on besides localhost: one per login that has its own.</summary>
    public IReadOnlyList<string> LoginAddresses => _loginAddresses;

    /// <summary>
    /// A loopback address of its own for a login, which the server then listens on too; <see langword="null"/> where
    /// only 127.0.0.1 is loopback (all of 127.0.0.0/8 is on Linux). Connections to it come from 127.0.0.1, so the
    /// cluster's pg_hba.conf admits them as it admits any local TCP login.
    /// </summary>
    public string? AddLoginAddress()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var address = $"127.0.0.{_loginAddresses.Count + 2}";
        _loginAddresses.Add(address);
        return address;
    }

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={PrimaryEndpoint.Property(EndpointProperty.Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username={SuperUser};Password={SuperUserPassword}");
}

/// <summary>A database on a <see cref="LocalPostgresServerResource"/>; created when missing.</summary>
public sealed class LocalPostgresDatabaseResource(string name, string databaseName, LocalPostgresServerResource parent)
    : Resource(name), IResourceWithParent<LocalPostgresServerResource>, IResourceWithConnectionString
{
    public LocalPostgresServerResource Parent { get; } = parent;

    public string DatabaseName { get; } = databaseName;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}

/// <summary>A redis-server run from the machine's own binary, on a port the orchestrator allocates.</summary>
public sealed class LocalRedisResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string PrimaryEndpointName = "tcp";

    private EndpointReference? _primaryEndpoint;

    public EndpointReference PrimaryEndpoint => _primaryEndpoint ??= new(this, PrimaryEndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"{PrimaryEndpoint.Property(EndpointProperty.Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)}");
}
