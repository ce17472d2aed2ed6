using Ava.Data.Users;
using Ava.MessagesApi.Data;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Ava.Tests.Integration;

/// <summary>
/// The messages API reads history in one round trip: a batch whose first statement makes the rest run as the caller.
/// That only isolates users if the settings reach the statements after them, and only keeps the pool safe if they
/// end with the batch. Both are checked here through the API's own login and data source settings, on a pool of
/// one connection so that every use after the first is a reuse.
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class UserDataBatchTests(AvaStackFixture stack) : IAsyncLifetime
{
    private const string WhoAmISql =
        $"SELECT pg_backend_pid(), current_user::text, {UserDataAccess.CurrentUserIdSql}, (SELECT count(*) FROM messages)";

    private readonly AvaDatabase _database = new(stack);
    private NpgsqlDataSource? _dataSource;

    private NpgsqlDataSource DataSource => _dataSource ?? throw new InvalidOperationException("Not initialised.");

    public async ValueTask InitializeAsync()
    {
        var api = stack.App.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .OfType<ProjectResource>().Single(p => p.Name == "messagesapi");
#pragma warning disable CS0618 // The simplest way to read what the AppHost hands the API; its replacement needs an execution context.
        var environment = await api.GetEnvironmentVariableValuesAsync();
#pragma warning restore CS0618

        var builder = new NpgsqlDataSourceBuilder(environment["ConnectionStrings__ava"]);
        UserDataBatches.ConfigureDataSource(builder);
        builder.ConnectionStringBuilder.MaxPoolSize = 1;
        _dataSource = builder.Build();
    }

    public async ValueTask DisposeAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }
    }

    [Fact]
    public async Task Statements_after_the_settings_run_as_the_user_under_the_policy_role()
    {
        var (alice, _) = await SeedTwoUsersAsync();

        var (_, role, userId, visibleMessages) = await WhoAmIAsUserAsync(alice);

        Assert.Equal(UserDataAccess.Role, role);
        Assert.Equal(alice, userId);
        Assert.Equal(1L, visibleMessages);
    }

    [Fact]
    public async Task Nothing_of_the_user_outlives_the_batch_on_the_pooled_connection()
    {
        var (alice, bob) = await SeedTwoUsersAsync();

        var asAlice = await WhoAmIAsUserAsync(alice);
        var afterwards = await WhoAmIAsync();
        var asBob = await WhoAmIAsUserAsync(bob);

        Assert.Equal(asAlice.Connection, afterwards.Connection);
        Assert.Equal((UserDataAccess.LoginRole, (Guid?)null, 0L), (afterwards.Role, afterwards.UserId, afterwards.VisibleMessages));
        Assert.Equal(asAlice.Connection, asBob.Connection);
        Assert.Equal((UserDataAccess.Role, (Guid?)bob, 1L), (asBob.Role, asBob.UserId, asBob.VisibleMessages));
    }

    [Fact]
    public async Task A_batch_that_fails_leaves_nothing_behind_either()
    {
        var (alice, _) = await SeedTwoUsersAsync();
        var before = await WhoAmIAsync();

        await using (var failing = new UserDataBatches(DataSource).Create(alice))
        {
            failing.Add("SELECT 1 / (SELECT count(*) - count(*) FROM messages)");
            await Assert.ThrowsAsync<PostgresException>(() => failing.ExecuteReaderAsync(TestContext.Current.CancellationToken));
        }

        var afterwards = await WhoAmIAsync();
        Assert.Equal(before, afterwards);
        Assert.Equal((UserDataAccess.LoginRole, (Guid?)null, 0L), (afterwards.Role, afterwards.UserId, afterwards.VisibleMessages));
    }

    private async Task<(Guid Alice, Guid Bob)> SeedTwoUsersAsync()
    {
        var (alice, bob) = (Guid.NewGuid(), Guid.NewGuid());
        foreach (var user in new[] { alice, bob })
        {
            await _database.ExecuteAsync("INSERT INTO messages (user_id, channel, role, content) VALUES ($1, 'app', 'user', 'x')", user);
        }

        return (alice, bob);
    }

    /// <summary>Deliberately no user filter: only the settings the batch begins with stand between users.</summary>
    private async Task<WhoAmI> WhoAmIAsUserAsync(Guid userId)
    {
        await using var batch = new UserDataBatches(DataSource).Create(userId);
        batch.Add(WhoAmISql);
        await using var reader = await batch.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        return await ReadAsync(reader);
    }

    /// <summary>The same question on the same pool, outside any batch.</summary>
    private async Task<WhoAmI> WhoAmIAsync()
    {
        await using var command = DataSource.CreateCommand(WhoAmISql);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        return await ReadAsync(reader);
    }

    private static async Task<WhoAmI> ReadAsync(NpgsqlDataReader reader)
    {
        Assert.True(await reader.ReadAsync(TestContext.Current.CancellationToken));
        return new WhoAmI(
            reader.GetInt32(0),
            reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetGuid(2),
            reader.GetInt64(3));
    }

    private sealed record WhoAmI(int Connection, string Role, Guid? UserId, long VisibleMessages);
}
