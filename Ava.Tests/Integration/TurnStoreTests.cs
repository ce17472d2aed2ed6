using Ava.Data;
using Ava.Data.WhatsApp;
using Ava.WebhookApi.WhatsApp.Responding;
using Ava.WebhookApi.WhatsApp.Storage;
using Npgsql;

namespace Ava.Tests.Integration;

/// <summary>
/// The one write that ends a turn, against the real database as the webhook's login: it writes the turn's replies
/// only while the claim still holds the turn, and only once — whoever else got an answer for it.
/// </summary>
[Collection(ResponderStackCollection.Name)]
public sealed class TurnStoreTests(ResponderStackFixture stack) : IAsyncLifetime
{
    private readonly AvaDatabase _database = new(stack);
    private NpgsqlDataSource? _webhookLogin;

    public async ValueTask InitializeAsync()
    {
        var builder = new NpgsqlDataSourceBuilder(await stack.GetConnectionStringAsync("webhook-db"));
        AvaDbContext.MapEnums(builder);
        _webhookLogin = builder.Build();
    }

    public async ValueTask DisposeAsync()
    {
        if (_webhookLogin is not null)
        {
            await _webhookLogin.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_turn_ended_twice_writes_its_replies_once()
    {
        var turn = await HeldTurnAsync();

        var first = await EndAsync(turn, ["one", "two"]);
        var second = await EndAsync(turn, ["one", "two"]);

        Assert.True(first);
        Assert.False(second);
        Assert.Equal([0, 1], await _database.QueryAsync<int>("SELECT turn_reply_index FROM outbound_replies WHERE turn_id = $1 ORDER BY turn_reply_index", turn.Id));
        Assert.Equal(2, (await _database.QueryAsync<string>("SELECT content FROM messages WHERE user_id = $1 AND role = 'assistant'", turn.UserId)).Count);
    }

    [Fact]
    public async Task A_holder_whose_claim_was_taken_over_writes_nothing_and_the_new_holder_writes_the_answer()
    {
        var stale = await HeldTurnAsync();
        var current = stale with { Token = Guid.CreateVersion7() };
        await _database.ExecuteAsync("UPDATE conversation_turns SET claim_token = $2 WHERE id = $1", stale.Id, current.Token);

        Assert.False(await EndAsync(stale, ["from the old holder"]));
        Assert.True(await EndAsync(current, ["from the new holder"]));

        Assert.Equal(
            ["from the new holder"],
            await _database.QueryAsync<string>("SELECT body FROM outbound_replies WHERE turn_id = $1", stale.Id));
        Assert.Equal(["answered"], await _database.QueryAsync<string>("SELECT status::text FROM conversation_turns WHERE id = $1", stale.Id));
    }

    /// <returns>Whether the turn ended.</returns>
    private async Task<bool> EndAsync(ClaimedTurn turn, IReadOnlyList<string> texts)
    {
        var (history, replies) = TurnPolicy.Replies(turn, texts, firstIndex: 0, DateTimeOffset.UtcNow, traceParent: null);
        var (ended, _) = await TurnsTable.EndAsync(
            _webhookLogin!,
            [new TurnEnding(turn, ConversationTurnStatus.Answered, Error: null, history, replies, HandOver: false)],
            handedToken: null,
            TimeSpan.FromSeconds(14),
            TestContext.Current.CancellationToken);
        return ended.Contains(turn.Id);
    }

    /// <summary>A linked user's turn, claimed under a token as a composer holds it.</summary>
    private async Task<ClaimedTurn> HeldTurnAsync()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        var wamid = WhatsAppDriver.NewWamid();
        var messageId = Guid.CreateVersion7();
        var token = Guid.CreateVersion7();
        var writtenAt = DateTimeOffset.UtcNow.AddSeconds(-1);

        // Not due for a minute: the stack's composers leave it to the test.
        await _database.ExecuteAsync(
            "INSERT INTO messages (id, user_id, channel, role, content, created_at, external_id) VALUES ($1, $2, 'whatsapp', 'user', 'hi', $3, $4)",
            messageId, userId, writtenAt, wamid);
        var id = await _database.ScalarAsync<long>(
            """
            INSERT INTO conversation_turns (inbound_wamid, user_id, message_id, phone_number_id, to_phone, message_type, content, written_at, expires_at, next_attempt_at, claim_token, locked_until)
            VALUES ($1, $2, $3, $4, $5, 'text', 'hi', $6, now() + interval '1 day', now() + interval '1 minute', $7, now() + interval '1 minute')
            RETURNING id
            """,
            wamid, userId, messageId, WhatsAppDriver.PhoneNumberId, phone, writtenAt, token);
        return new ClaimedTurn(id, token, wamid, userId, messageId, WhatsAppDriver.PhoneNumberId, phone, null, "text", "hi", writtenAt, 0, writtenAt.AddDays(1), null);
    }
}
