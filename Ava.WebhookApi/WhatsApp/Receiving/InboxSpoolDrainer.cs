using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Ava.WebhookApi.WhatsApp.Storage;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Receiving;

/// <summary>
/// Moves spooled deliveries into Postgres once it is reachable again, a file per transaction; a file is deleted
/// only after its rows are committed. (A crash between the two stores a delivery twice, which processing absorbs:
/// messages are exactly-once by wamid.)
/// </summary>
internal sealed partial class InboxSpoolDrainer(
    NpgsqlDataSource dataSource,
    InboxSpool spool,
    InboxSignal inboxSignal,
    IOptions<WhatsAppProcessingOptions> options,
    ILogger<InboxSpoolDrainer> logger) : BackgroundService, IHealthCheck
{
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await DrainAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException or IOException)
            {
                LogDrainFailed(logger, exception);
            }

            await Task.Delay(s_retryDelay + options.Value.PollInterval, stoppingToken);
        }
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        foreach (var abandoned in spool.AbandonedClaims())
        {
            InboxSpool.Release(abandoned);
        }

        foreach (var spooled in spool.Files())
        {
            if (InboxSpool.Claim(spooled) is not { } file)
            {
                continue;
            }

            IReadOnlyList<InboundDeliveryRecord> deliveries;
            try
            {
                deliveries = InboxSpool.Read(file);
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await InboxTable.InsertAsync(connection, transaction, deliveries, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            catch
            {
                // Back into the spool for the next round (of this instance or another).
                InboxSpool.Release(file);
                throw;
            }

            File.Delete(file);
            LogDrained(logger, deliveries.Count, Path.GetFileName(file));
            inboxSignal.Notify();
        }
    }

    /// <summary>Degraded while deliveries wait in the spool: Ava is receiving, but not yet processing them.</summary>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(spool.IsEmpty
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Degraded("Deliveries are waiting in the spool for Postgres."));

    [LoggerMessage(Level = LogLevel.Information, Message = "Moved {Count} spooled deliveries from {File} into Postgres")]
    private static partial void LogDrained(ILogger logger, int count, string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not drain the spool yet; retrying")]
    private static partial void LogDrainFailed(ILogger logger, Exception exception);
}
