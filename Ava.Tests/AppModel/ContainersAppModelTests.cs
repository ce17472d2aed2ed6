using Ava.AppHost;
using Ava.AppHost.WhatsApp;
using Ava.Data.Users;
using Ava.Data.WhatsApp;
using Npgsql;

namespace Ava.Tests.AppModel;

/// <summary>
/// What F5 starts on a laptop where Docker answers: Aspire's Postgres and Redis containers with their data volumes,
/// and every service wired to them — proven from the model, on a machine that has no engine to start them on.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ContainersAppModelTests : IDisposable
{
    private readonly StandInContainerEngine _docker = new();

    [Fact]
    public async Task Where_an_engine_answers_postgres_and_redis_are_containers_that_keep_their_data_in_volumes()
    {
        await using var model = await AppHostModel.BuildAsync(_docker.Argument);

        Assert.True(_docker.WasAsked);
        var postgres = model.Single<PostgresServerResource>("postgres");
        Assert.Equal(("docker.io", "library/postgres"), Image(postgres));
        Assert.Equal([("ava-postgres-data", ContainerMountType.Volume)], Mounts(postgres));
        Assert.Equal(ContainerLifetime.Persistent, Assert.Single(postgres.Annotations.OfType<ContainerLifetimeAnnotation>()).Lifetime);
        Assert.Equal(PostgresTuning.Settings.SelectMany(setting => new[] { "-c", setting }), await model.ArgumentsOfAsync("postgres"));
        Assert.Same(postgres, model.Single<PostgresDatabaseResource>("ava").Parent);

        var cache = model.Single<RedisResource>("cache");
        Assert.Equal(("docker.io", "library/redis"), Image(cache));
        Assert.Equal([("ava-redis-data", ContainerMountType.Volume)], Mounts(cache));

        // Nothing of the local way: no initdb, no postgres or redis-server of this machine; the only executables are
        // Aspire's own helpers that rebuild a project.
        Assert.All(model.Resources.OfType<ExecutableResource>(), executable => Assert.EndsWith("-rebuilder", executable.Name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tests_get_a_postgres_volume_of_their_own_run_so_that_every_run_starts_empty_and_a_restart_keeps_the_data()
    {
        await using var model = await AppHostModel.BuildAsync(_docker.Argument, "--Ava:ThrowawayData=true");
        await using var nextRun = await AppHostModel.BuildAsync(_docker.Argument, "--Ava:ThrowawayData=true");

        var (volume, type) = Assert.Single(Mounts(model.Single<PostgresServerResource>("postgres")));
        Assert.Equal(ContainerMountType.Volume, type);
        Assert.StartsWith($"ava-run-{Environment.ProcessId}-", volume, StringComparison.Ordinal);
        Assert.NotEqual(volume, Assert.Single(Mounts(nextRun.Single<PostgresServerResource>("postgres"))).Source);
        Assert.Empty(model.Single<PostgresServerResource>("postgres").Annotations.OfType<ContainerLifetimeAnnotation>());
        Assert.Empty(Mounts(model.Single<RedisResource>("cache")));
    }

    [Fact]
    public async Task Each_api_logs_in_to_the_container_as_its_own_role_and_never_sees_the_superusers_password()
    {
        await using var model = await AppHostModel.BuildAsync(_docker.Argument);
        model.AllocateEndpoints();
        var postgresPort = model.PortOf("postgres");
        var superUserPassword = await Value(model.Single<PostgresServerResource>("postgres").PasswordParameter);
        var cachePassword = await Value(model.Single<RedisResource>("cache").PasswordParameter!);

        var migrations = new NpgsqlConnectionStringBuilder((await model.EnvironmentOfAsync("migrations"))["ConnectionStrings__ava"]);
        Assert.Equal(("localhost", postgresPort, "postgres", superUserPassword, "ava"), (migrations.Host, migrations.Port, migrations.Username, migrations.Password, migrations.Database));

        foreach (var (api, login, password) in new[]
        {
            ("webhookapi", WebhookDataAccess.LoginRole, "webhook-db-password"),
            ("messagesapi", UserDataAccess.LoginRole, "messages-db-password"),
        })
        {
            var environment = await model.EnvironmentOfAsync(api);
            var database = new NpgsqlConnectionStringBuilder(environment["ConnectionStrings__ava"]);
            Assert.Equal(("localhost", login, await model.ParameterAsync(password), "ava"), (database.Host, database.Username, database.Password, database.Database));
            Assert.DoesNotContain(environment.Values, value => value.Contains(superUserPassword, StringComparison.Ordinal));
            Assert.StartsWith($"localhost:{model.PortOf("cache")},password={cachePassword}", environment["ConnectionStrings__cache"], StringComparison.Ordinal);
        }

        // The migrations give the logins those passwords.
        var migrationSettings = await model.EnvironmentOfAsync("migrations");
        Assert.Equal(await model.ParameterAsync("webhook-db-password"), migrationSettings["WebhookApi__DatabasePassword"]);
        Assert.Equal(await model.ParameterAsync("messages-db-password"), migrationSettings["MessagesApi__DatabasePassword"]);
    }

    [Fact]
    public async Task Each_api_reaches_the_container_at_a_port_of_its_login_so_the_dashboard_names_its_queries_after_it()
    {
        await using var model = await AppHostModel.BuildAsync(_docker.Argument);
        model.AllocateEndpoints();
        var postgres = model.Single<PostgresServerResource>("postgres");

        var ports = new Dictionary<string, int>();
        foreach (var (api, login) in new[] { ("webhookapi", "webhook-db"), ("messagesapi", "messages-db") })
        {
            var port = new NpgsqlConnectionStringBuilder((await model.EnvironmentOfAsync(api))["ConnectionStrings__ava"]).Port;
            var loginsOwn = new NpgsqlConnectionStringBuilder(await ((IResourceWithConnectionString)model.Single<ConnectionStringResource>(login)).GetConnectionStringAsync(TestContext.Current.CancellationToken)).Port;
            Assert.Equal(loginsOwn, port);
            Assert.Equal(model.PortOf("postgres", login), port);

            // The same server behind it: the container's Postgres port, published once more.
            var published = postgres.Annotations.OfType<EndpointAnnotation>().Single(endpoint => endpoint.Name == login);
            Assert.Equal((5432, "tcp"), (published.TargetPort, published.UriScheme));
            ports[api] = port;
        }

        // Apart from each other and from the server's own port (which the superuser's migrations use).
        Assert.Equal(3, ports.Values.Append(model.PortOf("postgres")).Distinct().Count());
    }

    [Fact]
    public async Task The_apis_start_once_the_database_and_cache_are_healthy_and_the_migrations_have_finished()
    {
        await using var model = await AppHostModel.BuildAsync(_docker.Argument);

        Assert.Contains(("ava", WaitType.WaitUntilHealthy), model.WaitsOf("migrations"));
        foreach (var api in new[] { "webhookapi", "messagesapi" })
        {
            var waits = model.WaitsOf(api).ToList();
            Assert.Contains(("ava", WaitType.WaitUntilHealthy), waits);
            Assert.Contains(("cache", WaitType.WaitUntilHealthy), waits);
            Assert.Contains(("migrations", WaitType.WaitForCompletion), waits);
        }
    }

    [Fact]
    public async Task Without_an_access_token_the_simulator_plays_meta_for_the_webhook()
    {
        await using var model = await AppHostModel.BuildAsync(_docker.Argument, "--Ava:WebhookReplicas=2");
        model.AllocateEndpoints();

        var webhook = await model.EnvironmentOfAsync("webhookapi");
        var simulator = await model.EnvironmentOfAsync(WhatsAppCloudApiExtensions.SimulatorName);

        Assert.Equal($"http://localhost:{model.PortOf(WhatsAppCloudApiExtensions.SimulatorName, "http")}", webhook["WHATSAPP_GRAPH_BASE_URL"]);
        Assert.Equal(webhook["WHATSAPP_ACCESS_TOKEN"], simulator["WHATSAPP_ACCESS_TOKEN"]);
        Assert.Equal(webhook["WHATSAPP_APP_SECRET"], simulator["WHATSAPP_APP_SECRET"]);
        Assert.Equal(WhatsAppCloudApiExtensions.SimulatedPhoneNumberId, webhook["WHATSAPP_PHONE_NUMBER_ID"]);
        Assert.Equal($"http://localhost:{model.PortOf("webhookapi", "http")}", simulator["services__webhookapi__http__0"]);
        Assert.Equal(2, model.Single<ProjectResource>("webhookapi").GetReplicaCount());
    }

    public void Dispose() => _docker.Dispose();

    private static async Task<string> Value(ParameterResource parameter) =>
        await parameter.GetValueAsync(TestContext.Current.CancellationToken) ?? throw new InvalidOperationException($"{parameter.Name} has no value.");

    private static (string? Registry, string Image) Image(ContainerResource container)
    {
        var image = Assert.Single(container.Annotations.OfType<ContainerImageAnnotation>());
        return (image.Registry, image.Image);
    }

    private static List<(string? Source, ContainerMountType Type)> Mounts(ContainerResource container) =>
        [.. container.Annotations.OfType<ContainerMountAnnotation>().Select(mount => (mount.Source, mount.Type))];
}
