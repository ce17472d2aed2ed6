using Ava.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Ava.Tests.Integration;

/// <summary>The migration worker has brought the real database to the model's schema before the APIs started.</summary>
[Collection(AvaStackCollection.Name)]
public sealed class SchemaTests(AvaStackFixture stack)
{
    private readonly AvaDatabase _database = new(stack);

    [Fact]
    public async Task Every_migration_is_applied()
    {
        await using var db = await CreateDbContextAsync();

        var pending = await db.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken);
        var applied = await db.Database.GetAppliedMigrationsAsync(TestContext.Current.CancellationToken);

        Assert.Empty(pending);
        Assert.Equal(db.Database.GetMigrations(), applied);
    }

    [Theory]
    [InlineData("message_channel", new[] { "app", "whatsapp" })]
    [InlineData("message_role", new[] { "assistant", "user" })]
    public async Task Message_enums_are_real_postgres_enums(string typeName, string[] labels)
    {
        var actual = await _database.QueryAsync<string>(
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = $1 ORDER BY e.enumlabel",
            typeName);

        Assert.Equal(labels, actual);
    }

    [Fact]
    public async Task Messages_accept_the_enum_values_and_reject_others()
    {
        var userId = Guid.NewGuid();

        await _database.ExecuteAsync(
            "INSERT INTO messages (user_id, channel, role, content) VALUES ($1, 'whatsapp', 'user', 'hello')", userId);
        var invalid = await Assert.ThrowsAsync<PostgresException>(() => _database.ExecuteAsync(
            "INSERT INTO messages (user_id, channel, role, content) VALUES ($1, 'sms', 'user', 'hello')", userId));

        Assert.Equal(PostgresErrorCodes.InvalidTextRepresentation, invalid.SqlState);
        var stored = await _database.QueryAsync<string>("SELECT channel::text || '/' || role::text FROM messages WHERE user_id = $1", userId);
        Assert.Equal(["whatsapp/user"], stored);
    }

    [Fact]
    public async Task A_users_newest_messages_are_read_through_the_history_index()
    {
        var definition = await _database.QueryAsync<string>(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'messages' AND indexname = 'ix_messages_user_id_created_at_id'");

        Assert.Contains("(user_id, created_at DESC, id DESC)", Assert.Single(definition));
    }

    [Fact]
    public async Task Delivery_statuses_are_ordered_so_the_furthest_wins()
    {
        var furthest = await _database.ScalarAsync<string>(
            "SELECT max(s)::text FROM unnest(ARRAY['read', 'sent', 'delivered']::delivery_status[]) AS s");
        var final = await _database.ScalarAsync<string>(
            "SELECT greatest('read'::delivery_status, 'failed'::delivery_status, 'pending'::delivery_status)::text");

        Assert.Equal("read", furthest);
        Assert.Equal("failed", final);
    }

    [Fact]
    public async Task A_whatsapp_phone_belongs_to_at_most_one_user()
    {
        var phone = "1555" + Random.Shared.Next(1_000_000, 9_999_999);

        await _database.ExecuteAsync("INSERT INTO user_preferences (user_id, whatsapp_phone) VALUES ($1, $2)", Guid.NewGuid(), phone);
        await _database.ExecuteAsync("INSERT INTO user_preferences (user_id) VALUES ($1)", Guid.NewGuid());
        await _database.ExecuteAsync("INSERT INTO user_preferences (user_id) VALUES ($1)", Guid.NewGuid());
        var duplicate = await Assert.ThrowsAsync<PostgresException>(() => _database.ExecuteAsync(
            "INSERT INTO user_preferences (user_id, whatsapp_phone) VALUES ($1, $2)", Guid.NewGuid(), phone));

        Assert.Equal(PostgresErrorCodes.UniqueViolation, duplicate.SqlState);
    }

    private async Task<AvaDbContext> CreateDbContextAsync()
    {
        var options = new DbContextOptionsBuilder<AvaDbContext>()
            .UseNpgsql(await stack.GetConnectionStringAsync(AvaDataExtensions.ConnectionName), AvaDbContext.ConfigureNpgsql)
            .Options;
        return new AvaDbContext(options);
    }
}
