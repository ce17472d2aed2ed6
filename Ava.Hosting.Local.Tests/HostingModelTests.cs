using Microsoft.Extensions.Logging.Abstractions;

namespace Ava.Hosting.Local.Tests;

/// <summary>The library's builders, in an app model of their own: the same names and connection strings either way.</summary>
public sealed class HostingModelTests
{
    private static readonly string[] s_settings = ["max_wal_size=4GB"];

    [Fact]
    public void Published_postgres_and_redis_are_aspires_containers_with_their_volumes_and_settings()
    {
        var builder = DistributedApplication.CreateBuilder(["--publisher", "manifest", "--Ava:Infrastructure=local"]);

        var postgres = builder.AddPostgresServer("pg", dataVolumeName: "pg-data", s_settings);
        var database = postgres.AddDatabase("db");
        var cache = builder.AddRedisServer("redis", dataVolumeName: "redis-data");

        var server = Assert.IsType<PostgresServerResource>(postgres.Resource);
        Assert.Same(server, Assert.IsType<PostgresDatabaseResource>(database.Resource).Parent);
        Assert.Equal("pg-data", Assert.Single(server.Annotations.OfType<ContainerMountAnnotation>()).Source);
        Assert.Equal("redis-data", Assert.Single(Assert.IsType<RedisResource>(cache.Resource).Annotations.OfType<ContainerMountAnnotation>()).Source);
    }

    [Fact]
    public void A_published_login_is_the_database_on_the_same_server_as_another_role_never_the_superuser()
    {
        var builder = DistributedApplication.CreateBuilder(["--publisher", "manifest"]);
        var database = builder.AddPostgresServer("pg", dataVolumeName: "pg-data", s_settings).AddDatabase("db");
        var password = builder.AddParameter("app-password", secret: true);

        var login = database.AddLogin("db-as-app", "app_login", password);

        Assert.Equal(
            "Host={pg.bindings.tcp.host};Port={pg.bindings.tcp.port};Username=app_login;Password={app-password.value};Database=db",
            login.Resource.ConnectionStringExpression.ValueExpression);
    }

    [Fact]
    public void A_local_login_is_the_database_as_another_role_at_a_loopback_address_of_its_own_on_the_same_port()
    {
        var builder = DistributedApplication.CreateBuilder(["--Ava:Infrastructure=local", "--Ava:ThrowawayData=true"]);
        var database = builder.AddPostgresServer("pg", dataVolumeName: "pg-data", s_settings).AddDatabase("db");

        var first = database.AddLogin("db-as-app", "app_login", builder.AddParameter("app-password", secret: true));
        var second = database.AddLogin("db-as-reader", "reader_login", builder.AddParameter("reader-password", secret: true));

        Assert.Equal(
            "Host=127.0.0.2;Port={pg.bindings.tcp.port};Username=app_login;Password={app-password.value};Database=db",
            first.Resource.ConnectionStringExpression.ValueExpression);
        Assert.Equal(
            "Host=127.0.0.3;Port={pg.bindings.tcp.port};Username=reader_login;Password={reader-password.value};Database=db",
            second.Resource.ConnectionStringExpression.ValueExpression);
        Assert.Equal(["127.0.0.2", "127.0.0.3"], Assert.IsType<LocalPostgresServerResource>(((IResourceWithParent)database.Resource).Parent).LoginAddresses);
    }

    [Fact]
    public async Task A_published_state_volume_is_a_named_volume_the_service_is_told_the_mount_of()
    {
        var builder = DistributedApplication.CreateBuilder(["--publisher", "manifest"]);
        var project = Directory.CreateTempSubdirectory("ava-service-").FullName;
        File.WriteAllText(Path.Combine(project, "Service.csproj"), """<Project Sdk="Microsoft.NET.Sdk.Web" />""");
        var service = builder.AddProject("service", Path.Combine(project, "Service.csproj"), _ => { });
        Directory.Delete(project, recursive: true);

        service.WithStateVolume("spool", "Service__SpoolDirectory");

        var mount = Assert.Single(service.Resource.Annotations.OfType<ContainerMountAnnotation>());
        Assert.Equal(("spool", $"{StateVolumeExtensions.PublishedMountRoot}/spool", ContainerMountType.Volume), (mount.Source, mount.Target, mount.Type));
        var publishing = new DistributedApplicationExecutionContext(new DistributedApplicationExecutionContextOptions(DistributedApplicationOperation.Publish));
        var environment = await ExecutionConfigurationBuilder.Create(service.Resource).WithEnvironmentVariablesConfig()
            .BuildAsync(publishing, NullLogger.Instance, TestContext.Current.CancellationToken);
        Assert.Equal(mount.Target, environment.EnvironmentVariables.ToDictionary()["Service__SpoolDirectory"]);
    }

    [Fact]
    public void Naming_a_data_directory_makes_nothing_until_it_is_prepared_and_a_clean_start_wipes_it_then()
    {
        var solution = Directory.CreateTempSubdirectory("ava-solution-").FullName;
        try
        {
            var data = LocalDataDirectory.ForDevelopment(solution, runAsUser: null, startClean: false);
            Assert.False(Directory.Exists(data.Root));

            data.Prepare(forLocalServers: true);
            File.WriteAllText(Path.Combine(data.Root, "kept"), "");
            Assert.True(Directory.Exists(data.PostgresData) && Directory.Exists(data.RedisData));

            var clean = LocalDataDirectory.ForDevelopment(solution, runAsUser: null, startClean: true);
            Assert.True(File.Exists(Path.Combine(clean.Root, "kept")));
            clean.Prepare(forLocalServers: false);
            Assert.False(File.Exists(Path.Combine(clean.Root, "kept")));
        }
        finally
        {
            Directory.Delete(solution, recursive: true);
        }
    }
}
