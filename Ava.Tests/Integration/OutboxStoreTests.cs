using Ava.Data;
using Ava.WebhookApi.WhatsApp.Model;
using Ava.WebhookApi.WhatsApp.Storage;
using Npgsql;

namespace Ava.Tests.Integration;

/// <summary>
/// The outbox's writes against the real database as the webhook's login, where timing decides: a business number's
/// recovery sends its waiting replies at once — but not one Meta asked to wait.
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class OutboxStoreTests(AvaStackFixture stack) : IAsyncLifetime
{
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(14);

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
    public async Task A_recovering_number_sends_its_waiting_replies_now_but_not_before_a_retry_after_meta_gave()
    {
        // A number of its own, so that no other test's recovery touches these replies.
        var number = "resume-" + Guid.NewGuid().ToString("N")[..12];
        var backingOff = await ClaimedReplyAsync(number);
        var toldToWait = await ClaimedReplyAsync(number);
        await RecordAsync(
            new ReplyOutcome(backingOff.Id, backingOff.Token, ReplyState.Retry, Attempted: true, ErrorCode: 131000, RetryIn: TimeSpan.FromHours(2)),
            new ReplyOutcome(toldToWait.Id, toldToWait.Token, ReplyState.Retry, Attempted: true, ErrorCode: 130429, RetryIn: TimeSpan.FromHours(2),
                NotBefore: TimeSpan.FromHours(1)));

        try
        {
            await OutboxTable.ResumeAsync(_webhookLogin!, number, limit: 100, keepWaitingCode: 131056, TestContext.Current.CancellationToken);

            var waits = await _database.QueryAsync(
                "SELECT id, extract(epoch FROM next_attempt_at - now())::float8 FROM outbound_replies WHERE phone_number_id = $1",
                row => (Id: row.GetInt64(0), Seconds: row.GetDouble(1)),
                number);
            Assert.InRange(waits.Single(w => w.Id == backingOff.Id).Seconds, -60, 1);
            Assert.InRange(waits.Single(w => w.Id == toldToWait.Id).Seconds, 3500, 3600);
        }
        finally
        {
            // The resumed one is due: the running sender is not to send it to a number that does not exist.
            await _database.ExecuteAsync("DELETE FROM outbound_replies WHERE phone_number_id = $1", number);
        }
    }

    /// <summary>A reply to a new linked user, put in the outbox already claimed, as a sender holds it while sending.</summary>
    private async Task<ClaimedReply> ClaimedReplyAsync(string number)
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        var row = new ReplyRow(
            "wamid.resume" + Guid.NewGuid().ToString("N"), userId, null, number, phone, "[Echo] resume", DateTimeOffset.UtcNow.AddHours(20), null);
        var token = Guid.CreateVersion7();
        await using var batch = _webhookLogin!.CreateBatch();
        batch.BatchCommands.Add(OutboxTable.Insert([row], token, s_lease));
        await using var reader = await batch.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        return Assert.Single(await OutboxTable.ReadClaimedAsync(reader, token, TestContext.Current.CancellationToken));
    }

    private async Task RecordAsync(params ReplyOutcome[] outcomes)
    {
        await using var batch = _webhookLogin!.CreateBatch();
        batch.BatchCommands.Add(OutboxTable.Record([.. outcomes.OrderBy(o => o.Id)]));
        await batch.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }
}
