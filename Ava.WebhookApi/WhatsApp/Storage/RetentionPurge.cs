using Npgsql;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>What one retention round deleted.</summary>
/// <param name="Deliveries">Raw deliveries: processed ones, and set-aside ones past their longer retention.</param>
/// <param name="Replies">Replies that are no longer pending: sent ones, and failed ones past their longer retention.</param>
/// <param name="Turns">Turns the responder answered, and failed ones past their longer retention.</param>
internal sealed record RetentionPurgeResult(long Deliveries, long DedupRecords, long Replies, long StatusEvents, long Turns)
{
    public long Total => Deliveries + DedupRecords + Replies + StatusEvents + Turns;
}

/// <summary>How long each kind of row is kept.</summary>
/// <param name="Handled">Processed deliveries, dedup records, replies Meta accepted and the statuses Meta reported.</param>
/// <param name="Failed">
/// Deliveries set aside and replies refused for good: kept longer, for a person to look at and replay (a replayed
/// row is new work again, and waits for its own outcome).
/// </param>
internal sealed record RetentionPeriods(TimeSpan Handled, TimeSpan Failed);

/// <summary>
/// Deletes what Ava keeps outside the users' history — raw deliveries (bodies with phone numbers and texts, outside
/// row-level security), dedup records, replies (phones and texts), delivery statuses and the responder's turns (texts)
/// — once older than their retention period, in small batches with pauses between them, so that the purge never competes with the pipeline
/// for long. Nothing still to be done is deleted: no delivery waiting to be processed, no turn waiting for the
/// responder, no reply waiting to be sent.
/// </summary>
internal static class RetentionPurge
{
    public const int BatchSize = 1000;

    public static async Task<RetentionPurgeResult> RunAsync(
        NpgsqlDataSource dataSource, RetentionPeriods retention, TimeSpan pause, TimeProvider clock, CancellationToken cancellationToken)
    {
        async Task<long> InBatchesAsync(Func<Task<int>> deleteBatch)
        {
            long deleted = 0;
            while (true)
            {
                var batch = await deleteBatch();
                deleted += batch;
                if (batch < BatchSize)
                {
                    return deleted;
                }

                await Task.Delay(pause, clock, cancellationToken);
            }
        }

        var deliveries = await InBatchesAsync(() => InboxTable.PurgeAsync(dataSource, retention.Handled, BatchSize, cancellationToken));
        deliveries += await InBatchesAsync(() => DeleteAsync(dataSource, SetAsideDeliveries, [retention.Failed], cancellationToken));
        var dedup = await InBatchesAsync(() => InboundMessagesTable.PurgeAsync(dataSource, retention.Handled, BatchSize, cancellationToken));
        var replies = await InBatchesAsync(() => DeleteAsync(dataSource, Ended(OutboxTable.Name), [retention.Handled, retention.Failed], cancellationToken));
        var statuses = await InBatchesAsync(() => DeleteAsync(dataSource, StatusEvents, [retention.Handled], cancellationToken));
        var turns = await InBatchesAsync(() => DeleteAsync(dataSource, Ended(TurnsTable.Name), [retention.Handled, retention.Failed], cancellationToken));
        return new RetentionPurgeResult(deliveries, dedup, replies, statuses, turns);
    }

    /// <summary>The inbox's own purge leaves these: set aside, they wait for a person (and a replay) longer.</summary>
    private const string SetAsideDeliveries =
        """
        DELETE FROM inbound_deliveries WHERE id IN (
            SELECT id FROM inbound_deliveries
            WHERE received_at < now() - $1 AND outcome = 'failed'
            ORDER BY received_at
            LIMIT $2
            FOR UPDATE SKIP LOCKED)
        """;

    /// <summary>
    /// Replies and turns that ended: failed ones after the longer period. Pending ones (waiting, in flight, being
    /// composed, or replayed) are never deleted, however old.
    /// </summary>
    /// <param name="table">A table name constant of a store (<c>status</c> pending | … | failed, <c>created_at</c>), never input.</param>
    private static string Ended(string table) =>
        $"""
        DELETE FROM {table} WHERE id IN (
            SELECT id FROM {table}
            WHERE status <> 'pending'
              AND created_at < now() - CASE WHEN status = 'failed' THEN $2 ELSE $1 END
            ORDER BY id
            LIMIT $3
            FOR UPDATE SKIP LOCKED)
        """;

    /// <summary>
    /// Statuses are applied to the reply and its history line as they arrive; the events themselves are a record.
    /// Rows arrive in time order, so the oldest are found at the start of the table without an index. Not locked
    /// first: that takes UPDATE, which the webhook has no need of on statuses; instances purging at the same moment
    /// wait for each other's batch of a thousand instead of skipping it.
    /// </summary>
    private const string StatusEvents =
        """
        DELETE FROM delivery_status_events e USING (
            SELECT wamid, status FROM delivery_status_events
            WHERE received_at < now() - $1
            LIMIT $2) old
        WHERE e.wamid = old.wamid AND e.status = old.status
        """;

    /// <summary>One batch of a purge statement: its periods, then the batch size.</summary>
    private static async Task<int> DeleteAsync(NpgsqlDataSource dataSource, string sql, TimeSpan[] periods, CancellationToken cancellationToken)
    {
        await using var purge = dataSource.CreateCommand(sql);
        foreach (var period in periods)
        {
            purge.Parameters.Add(Value(period));
        }

        purge.Parameters.Add(Value(BatchSize));
        return await purge.ExecuteNonQueryAsync(cancellationToken);
    }
}
