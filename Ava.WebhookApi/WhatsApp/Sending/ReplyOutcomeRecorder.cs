using System.Threading.Channels;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>
/// Records what became of the sender's replies, many per statement, each matched to the claim that made the send.
/// A failed record is retried, never the send: Postgres being away never loses an outcome. Recorded outcomes free
/// their room in the outbox's queue, and wake the sweeps that have work again (retries, a turn's next reply, a
/// user's next turn).
/// </summary>
internal sealed partial class ReplyOutcomeRecorder(
    NpgsqlDataSource dataSource,
    OutboxQueue outbox,
    TurnQueue turns,
    DatabaseOutage outage,
    TimeProvider clock,
    IOptions<WhatsAppProcessingOptions> options,
    ILogger<ReplyOutcomeRecorder> logger)
{
    private static readonly TimeSpan s_maxRecordRetryDelay = TimeSpan.FromSeconds(5);

    // Not single-reader: the recorder reads the count of waiting outcomes, which only this kind of channel keeps.
    private readonly Channel<ReplyOutcome> _outcomes = Channel.CreateUnbounded<ReplyOutcome>();

    private WhatsAppProcessingOptions Settings => options.Value;

    public void Add(ReplyOutcome outcome) => _outcomes.Writer.TryWrite(outcome);

    /// <summary>No more outcomes come: <see cref="RunAsync"/> ends once it has written the last.</summary>
    public void Complete() => _outcomes.Writer.TryComplete();

    /// <summary>Writes outcomes as they come, many per statement, until the sender stops and all are written.</summary>
    public async Task RunAsync()
    {
        var batch = new List<ReplyOutcome>(Settings.SendBatchSize);
        while (await _outcomes.Reader.WaitToReadAsync())
        {
            if (_outcomes.Reader.Count < Settings.SendBatchSize && !_outcomes.Reader.Completion.IsCompleted)
            {
                // Fewer, bigger records (see WhatsAppProcessingOptions.BatchLinger).
                await Task.Delay(Settings.BatchLinger, clock);
            }

            batch.Clear();
            while (batch.Count < Settings.SendBatchSize * 2 && _outcomes.Reader.TryRead(out var outcome))
            {
                batch.Add(outcome);
            }

            try
            {
                await RecordWithRetryAsync(batch);
            }
            catch (Exception exception)
            {
                // The recorder must outlive anything: the claims run out and their replies are claimed again.
                LogWorkerFailed(logger, exception);
            }

            outbox.Finished(batch);

            // Retries and replies handed back wait in the outbox; so does the next reply of a turn, now free to go.
            if (batch.Any(o => o.State is ReplyState.Retry or ReplyState.Released || o.TurnId is not null))
            {
                outbox.RequestSweep();
            }

            // A turn whose replies have gone lets its user's next turn start.
            if (batch.Any(o => o.TurnId is not null && o.State is ReplyState.Sent or ReplyState.Failed))
            {
                turns.RequestSweep();
            }
        }
    }

    /// <summary>Postgres being away never loses an outcome: the record is retried (never the send) until it is written.</summary>
    private async Task RecordWithRetryAsync(List<ReplyOutcome> batch)
    {
        // In id order: the order in which every statement that updates many replies locks them.
        batch.Sort((a, b) => a.Id.CompareTo(b.Id));
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var write = dataSource.CreateBatch();
                var sent = batch.Where(o => o.State == ReplyState.Sent).ToList();
                if (sent.Count > 0)
                {
                    write.BatchCommands.Add(MessagesTable.LockReplyStatuses(sent.Select(o => o.Wamid!)));
                }

                var record = OutboxTable.Record(batch);
                write.BatchCommands.Add(record);
                write.BatchCommands.Add(MessagesTable.ApplyReplyOutcomes(batch.Where(o => o.State is ReplyState.Sent or ReplyState.Failed).Select(o => o.Id)));
                await write.ExecuteNonQueryAsync(CancellationToken.None);

                if (record.RecordsAffected < batch.Count)
                {
                    LogOutcomesLost(logger, batch.Count - record.RecordsAffected);
                }

                return;
            }
            catch (Exception exception) when (Outages.IsOutage(exception))
            {
                outage.Observe(exception);
                LogRecordFailed(logger, batch.Count, batch.Count(o => o.State == ReplyState.Sent), exception);
                await Task.Delay(Backoff.Delay(attempt, TimeSpan.FromMilliseconds(200), s_maxRecordRetryDelay), clock);
            }
            catch (Exception) when (batch.Count > 1)
            {
                // Not an outage, so the same statement would fail the same way: one outcome at a time, so that only
                // the one at fault is lost — not every accepted reply recorded beside it.
                foreach (var outcome in batch)
                {
                    await RecordWithRetryAsync([outcome]);
                }

                return;
            }
            catch (Exception exception)
            {
                // The claim runs out and the reply is claimed again; if Meta accepted it, it is sent a second time.
                LogRecordImpossible(logger, batch.Count, string.Join(", ", batch.Where(o => o.State == ReplyState.Sent).Select(o => $"{o.Id}={o.Wamid}")), exception);
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The reply outcome recorder hit an unexpected error; it carries on")]
    private static partial void LogWorkerFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record {Count} send outcomes ({Accepted} accepted by Meta) yet; retrying the record, not the sends")]
    private static partial void LogRecordFailed(ILogger logger, int count, int accepted, Exception exception);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Recording {Count} send outcomes failed for a reason that is not an outage; replies accepted by Meta (id=wamid: {Accepted}) may be sent again")]
    private static partial void LogRecordImpossible(ILogger logger, int count, string accepted, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} send outcomes were not recorded: their claims had been taken over by another instance")]
    private static partial void LogOutcomesLost(ILogger logger, int count);
}
