using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Ava.Tests.Integration;

/// <summary>Plain SQL against the stack's real database, for arranging and checking what the services stored.</summary>
public sealed class AvaDatabase(AvaStackFixture stack)
{
    public async Task ExecuteAsync(string sql, params object?[] parameters)
    {
        await using var command = await CreateCommandAsync(sql, parameters);
        await using var connection = command.Connection;
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>The first column of each row.</summary>
    public Task<List<T>> QueryAsync<T>(string sql, params object?[] parameters) =>
        QueryAsync(sql, row => row.IsDBNull(0) ? default! : row.GetFieldValue<T>(0), parameters);

    /// <summary>Each row read into a typed record, so that a test compares values, not text glued together in SQL.</summary>
    public async Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params object?[] parameters)
    {
        await using var command = await CreateCommandAsync(sql, parameters);
        await using var connection = command.Connection;
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    /// <summary>The replies to a phone: how far each got, after how many sends.</summary>
    public Task<List<ReplyAttempts>> RepliesToAsync(string phone) =>
        QueryAsync(
            "SELECT status::text, attempts FROM outbound_replies WHERE to_phone = $1 ORDER BY id",
            row => new ReplyAttempts(row.GetString(0), row.GetInt32(1)),
            phone);

    /// <summary>A new Ava user whose WhatsApp phone (a new one) is linked.</summary>
    public async Task<(string Phone, Guid UserId)> LinkedUserAsync()
    {
        var phone = WhatsAppDriver.NewPhone();
        var userId = Guid.NewGuid();
        await ExecuteAsync("INSERT INTO user_preferences (user_id, whatsapp_phone) VALUES ($1, $2)", userId, phone);
        return (phone, userId);
    }

    /// <summary>
    /// Makes every write of the message <paramref name="wamid"/> fail (a trigger on <c>inbound_messages</c>), as a
    /// bug or a broken constraint would, until the returned handle is disposed.
    /// </summary>
    public async Task<IAsyncDisposable> PoisonAsync(string wamid)
    {
        var trigger = "test_poison_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync($"CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'poisoned for a test'; END $$");
        await ExecuteAsync(
            $"CREATE TRIGGER {trigger} BEFORE INSERT ON inbound_messages FOR EACH ROW WHEN (NEW.wamid = '{wamid}') EXECUTE FUNCTION {trigger}()");
        return new Poison(this, trigger);
    }

    public async Task<T> ScalarAsync<T>(string sql, params object?[] parameters) =>
        (await QueryAsync<T>(sql, parameters)).Single();

    private async Task<NpgsqlCommand> CreateCommandAsync(string sql, object?[] parameters)
    {
        var connection = new NpgsqlConnection(await stack.GetConnectionStringAsync(AvaDataExtensions.ConnectionName));
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter ?? DBNull.Value });
        }

        return command;
    }

    private sealed class Poison(AvaDatabase database, string trigger) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await database.ExecuteAsync($"DROP TRIGGER {trigger} ON inbound_messages");
            await database.ExecuteAsync($"DROP FUNCTION {trigger}()");
        }
    }
}

/// <summary>A reply's status (<c>outbound_replies.status</c>) and the sends it took.</summary>
public sealed record ReplyAttempts(string Status, int Attempts);
