using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Retention;

/// <summary>
/// Purges what was handled — deliveries, dedup records, replies, statuses, turns — past
/// <see cref="WhatsAppProcessingOptions.DeliveryRetention"/> (default 30 days), and what failed for good past
/// <see cref="WhatsAppProcessingOptions.FailedRetention"/> (default 90 days), once an hour, off the hot path. Every
/// instance runs it; batches skip rows another instance is deleting, so they share the work instead of colliding.
/// </summary>
internal sealed partial class DeliveryRetentionService(
    NpgsqlDataSource dataSource,
    TimeProvider clock,
    IOptions<WhatsAppProcessingOptions> options,
    ILogger<DeliveryRetentionService> logger) : BackgroundService
{
    private static readonly TimeSpan s_firstRun = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan s_interval = TimeSpan.FromHours(1);
    private static readonly TimeSpan s_pauseBetweenBatches = TimeSpan.FromMilliseconds(200);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Delay(s_firstRun, clock, stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var retention = new RetentionPeriods(options.Value.DeliveryRetention, options.Value.FailedRetention);
                var purged = await RetentionPurge.RunAsync(dataSource, retention, s_pauseBetweenBatches, clock, stoppingToken);
                if (purged.Total > 0)
                {
                    LogPurged(logger, purged.Deliveries, purged.DedupRecords, purged.Replies, purged.StatusEvents, purged.Turns, retention.Handled, retention.Failed);
                }
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogPurgeFailed(logger, exception);
            }

            await Task.Delay(s_interval, clock, stoppingToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Retention: deleted {Deliveries} deliveries, {DedupRecords} dedup records, {Replies} replies, {StatusEvents} delivery statuses and {Turns} turns older than {Retention} ({FailedRetention} for what failed)")]
    private static partial void LogPurged(
        ILogger logger, long deliveries, long dedupRecords, long replies, long statusEvents, long turns, TimeSpan retention, TimeSpan failedRetention);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention purge failed; it runs again within the hour")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);
}
