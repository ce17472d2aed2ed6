using Ava.Data.Users;
using Ava.Data.WhatsApp;
using Ava.Hosting.Local;
using Npgsql;

namespace Ava.Tests.AppModel;

/// <summary>What the AppHost starts where no container engine answers (this machine, CI): the machine's own binaries.</summary>
public sealed class LocalAppModelTests
{
    [Fact]
    public async Task Where_no_engine_answers_postgres_and_redis_are_this_machines_own_binaries()
    {
        await using var model = await AppHostModel.BuildAsync("--Ava:Infrastructure=local", "--Ava:ThrowawayData=true");

        var postgres = model.Single<LocalPostgresServerResource>("postgres");
        Assert.Same(postgres, model.Single<LocalPostgresDatabaseResource>("ava").Parent);
        Assert.Contains(("postgres-init", WaitType.WaitForCompletion), model.WaitsOf("postgres"));
        model.Single<LocalRedisResource>("cache");
        Assert.Empty(model.Resources.OfType<ContainerResource>());
    }

    [Fact]
    public async Task Each_api_logs_in_to_the_local_server_as_its_own_role_and_never_sees_the_superusers_password()
    {
        await using var model = await AppHostModel.BuildAsync("--Ava:Infrastructure=local", "--Ava:ThrowawayData=true");
        model.AllocateEndpoints();
        var superUserPassword = await model.ParameterAsync("postgres-password");

        foreach (var (api, login, password) in new[]
        {
            ("webhookapi", WebhookDataAccess.LoginRole, "webhook-db-password"),
            ("messagesapi", UserDataAccess.LoginRole, "messages-db-password"),
        })
        {
            var environment = await model.EnvironmentOfAsync(api);
            var database = new NpgsqlConnectionStringBuilder(environment["ConnectionStrings__ava"]);
            Assert.Equal((model.PortOf("postgres"), login, await model.ParameterAsync(password), "ava"), (database.Port, database.Username, database.Password, database.Database));
            Assert.Equal($"localhost:{model.PortOf("cache")}", environment["ConnectionStrings__cache"]);
            Assert.DoesNotContain(environment.Values, value => value.Contains(superUserPassword, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Each_api_reaches_the_local_server_at_a_loopback_address_of_its_login_so_the_dashboard_names_its_queries_after_it()
    {
        await using var model = await AppHostModel.BuildAsync("--Ava:Infrastructure=local", "--Ava:ThrowawayData=true");
        model.AllocateEndpoints();

        var hosts = new Dictionary<string, string>();
        foreach (var (api, login) in new[] { ("webhookapi", "webhook-db"), ("messagesapi", "messages-db") })
        {
            var host = new NpgsqlConnectionStringBuilder((await model.EnvironmentOfAsync(api))["ConnectionStrings__ava"]).Host!;
            var loginsOwn = new NpgsqlConnectionStringBuilder(await ((IResourceWithConnectionString)model.Single<ConnectionStringResource>(login)).GetConnectionStringAsync(TestContext.Current.CancellationToken)).Host;
            Assert.Equal(loginsOwn, host);
            Assert.StartsWith("127.0.0.", host, StringComparison.Ordinal);
            hosts[api] = host;
        }

        // Apart from each other and from the server's own address (which the superuser's migrations use).
        Assert.Equal(3, hosts.Values.Append("localhost").Distinct().Count());
        var listening = (await model.ArgumentsOfAsync("postgres")).Single(argument => argument.StartsWith("listen_addresses=", StringComparison.Ordinal));
        Assert.Equal($"listen_addresses=localhost,{hosts["webhookapi"]},{hosts["messagesapi"]}", listening);
    }

    [Fact]
    public async Task A_model_that_is_built_and_never_started_leaves_no_data_directory_behind()
    {
        var before = ThrowawayDirectoriesOfThisProcess();

        await using (var model = await AppHostModel.BuildAsync("--Ava:Infrastructure=local", "--Ava:ThrowawayData=true"))
        {
            Assert.Equal(before, ThrowawayDirectoriesOfThisProcess());
        }

        Assert.Equal(before, ThrowawayDirectoriesOfThisProcess());
    }

    private static List<string> ThrowawayDirectoriesOfThisProcess() =>
        [.. Directory.EnumerateDirectories(Path.GetTempPath(), $"ava-run-{Environment.ProcessId}-*").Order()];
}
