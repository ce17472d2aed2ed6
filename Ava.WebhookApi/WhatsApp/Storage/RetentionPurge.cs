using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>What one retention round deleted.</summary>
internal sealed record RetentionPurgeResult(long Deliveries, long DedupRecords);

/// <summary>
/// Deletes raw deliveries (bodies with phone numbers and texts, outside row-level security) and dedup records older
/// than the retention period, in small batches with pauses between them, so that the purge never competes with the
/// pipeline for long. Deliveries still to be processed are never deleted.
/// </summary>
internal static class RetentionPurge
{
    public const int BatchSize = 1000;

    public static async Task<RetentionPurgeResult> RunAsync(
        NpgsqlDataSource dataSource, TimeSpan retention, TimeSpan pause, TimeProvider clock, CancellationToken cancellationToken)
    {
        long deliveries = 0, dedup = 0;
        while (true)
        {
            var deleted = await InboxTable.PurgeAsync(dataSource, retention, BatchSize, cancellationToken);
            deliveries += deleted;
            if (deleted < BatchSize)
            {
                break;
            }

            await Task.Delay(pause, clock, cancellationToken);
        }

        while (true)
        {
            var deleted = await InboundMessagesTable.PurgeAsync(dataSource, retention, BatchSize, cancellationToken);
            dedup += deleted;
            if (deleted < BatchSize)
            {
                break;
            }

            await Task.Delay(pause, clock, cancellationToken);
        }

        return new RetentionPurgeResult(deliveries, dedup);
    }
}
