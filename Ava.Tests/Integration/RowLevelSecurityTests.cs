using Ava.Data.Users;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Ava.Tests.Integration;

/// <summary>
/// The database's own wall, independent of any query's filter: under the role the messages API uses, a query that
/// forgets its user filter still sees only the caller's rows, and nothing without a caller.
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class RowLevelSecurityTests(AvaStackFixture stack)
{
    private readonly AvaDatabase _database = new(stack);

    [Theory]
    [InlineData("messages")]
    [InlineData("user_preferences")]
    [InlineData("outbound_replies")]
    public async Task A_query_without_a_user_filter_sees_only_the_callers_rows(string table)
    {
        var (alice, bob) = await SeedTwoUsersAsync();

        var aliceSees = await CountAsUserAsync(table, alice);
        var bobSees = await CountAsUserAsync(table, bob);
        var everything = await _database.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE user_id = ANY($1)", (object)new[] { alice, bob });

        Assert.Equal(1, aliceSees);
        Assert.Equal(1, bobSees);
        Assert.Equal(2, everything);
    }

    [Theory]
    [InlineData("messages")]
    [InlineData("user_preferences")]
    [InlineData("outbound_replies")]
    [InlineData("delivery_status_events")]
    public async Task Without_a_user_id_nothing_is_visible(string table)
    {
        await SeedTwoUsersAsync();

        Assert.Equal(0, await CountAsUserAsync(table, userId: null));
    }

    [Fact]
    public async Task Statuses_are_visible_only_through_the_callers_own_replies()
    {
        var (alice, bob) = await SeedTwoUsersAsync();

        Assert.Equal(["read"], await StatusesAsUserAsync(alice));
        Assert.Equal(["delivered"], await StatusesAsUserAsync(bob));
    }

    [Fact]
    public async Task The_messages_api_logs_in_as_a_role_that_cannot_step_around_the_policies()
    {
        await SeedTwoUsersAsync();
        var api = stack.App.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .OfType<ProjectResource>().Single(p => p.Name == "messagesapi");
#pragma warning disable CS0618 // The simplest way to read what the AppHost hands the API; its replacement needs an execution context.
        var environment = await api.GetEnvironmentVariableValuesAsync();
#pragma warning restore CS0618

        await using var connection = new NpgsqlConnection(environment["ConnectionStrings__ava"]);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(
            """
            RESET ROLE;
            SELECT current_user || ' super=' || rolsuper || ' bypassrls=' || rolbypassrls || ' sees=' || (SELECT count(*) FROM messages)
            FROM pg_roles WHERE rolname = current_user
            """,
            connection);

        Assert.Equal(
            $"{UserDataAccess.LoginRole} super=false bypassrls=false sees=0",
            await command.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_user_cannot_write_a_row_for_someone_else()
    {
        var intruder = Guid.NewGuid();

        var refused = await Assert.ThrowsAsync<PostgresException>(() => AsUserAsync(intruder, async command =>
        {
            command.CommandText = "INSERT INTO user_preferences (user_id) VALUES ($1)";
            command.Parameters.Add(new NpgsqlParameter { Value = Guid.NewGuid() });
            return await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }));

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
    }

    private async Task<(Guid Alice, Guid Bob)> SeedTwoUsersAsync()
    {
        var (alice, bob) = (Guid.NewGuid(), Guid.NewGuid());
        foreach (var (user, status) in new[] { (alice, "read"), (bob, "delivered") })
        {
            var wamid = WhatsAppDriver.NewWamid();
            await _database.ExecuteAsync("INSERT INTO user_preferences (user_id, whatsapp_phone) VALUES ($1, $2)", user, WhatsAppDriver.NewPhone());
            await _database.ExecuteAsync("INSERT INTO messages (user_id, channel, role, content) VALUES ($1, 'whatsapp', 'assistant', 'x')", user);
            await _database.ExecuteAsync(
                "INSERT INTO outbound_replies (inbound_wamid, user_id, phone_number_id, to_phone, body, status, wamid) VALUES ($1, $2, '1', '1', 'x', 'sent', $3)",
                WhatsAppDriver.NewWamid(), user, wamid);
            await _database.ExecuteAsync("INSERT INTO delivery_status_events (wamid, status) VALUES ($1, $2::delivery_status)", wamid, status);
        }

        return (alice, bob);
    }

    private Task<long> CountAsUserAsync(string table, Guid? userId) => AsUserAsync(userId, async command =>
    {
        // Deliberately no user filter: only the policies stand between the caller and others' rows.
        command.CommandText = $"SELECT count(*) FROM {table}";
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    });

    private Task<List<string>> StatusesAsUserAsync(Guid userId) => AsUserAsync<List<string>>(userId, async command =>
    {
        command.CommandText = "SELECT status::text FROM delivery_status_events";
        var statuses = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            statuses.Add(reader.GetString(0));
        }

        return statuses;
    });

    /// <summary>As the messages API works: one transaction, the RLS role, the caller's id (if any) set.</summary>
    private async Task<T> AsUserAsync<T>(Guid? userId, Func<NpgsqlCommand, Task<T>> work)
    {
        await using var connection = new NpgsqlConnection(await stack.GetConnectionStringAsync(AvaDataExtensions.ConnectionName));
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await using (var setup = new NpgsqlCommand($"SET LOCAL ROLE {UserDataAccess.Role}", connection, transaction))
        {
            await setup.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        if (userId is not null)
        {
            await using var setUser = new NpgsqlCommand($"SELECT set_config('{UserDataAccess.UserIdSetting}', $1, true)", connection, transaction);
            setUser.Parameters.Add(new NpgsqlParameter { Value = userId.ToString() });
            await setUser.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        await using var command = new NpgsqlCommand { Connection = connection, Transaction = transaction };
        return await work(command);
    }
}
