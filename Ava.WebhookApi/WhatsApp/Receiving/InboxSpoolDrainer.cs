using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Ava.WebhookApi.WhatsApp.Storage;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Receiving;

/// <summary>
/// Moves spooled deliveries into Postgres once it is reachable again, a file per transaction; a file is deleted
/// only after its rows are committed. (A crash between the two stores a delivery twice, which processing absorbs:
/// messages are exactly-once by wamid.) Whatever fails, the files stay on disk and the drainer tries again later:
/// nothing here may stop the host.
/// </summary>
internal sealed partial class InboxSpoolDrainer(
    NpgsqlDataSource dataSource,
    InboxSpool spool,
    InboxQueue inbox,
    IOptions<WhatsAppProcessingOptions> options,
    TimeProvider clock,
    ILogger<InboxSpoolDrainer> logger) : BackgroundService, IHealthCheck
{
    private static readonly TimeSpan s_firstRetryDelay = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_maxRetryDelay = TimeSpan.FromSeconds(15);

    /// <summary>A writer holds its temporary file locked while it writes, and renames it microseconds after letting
    /// go; one untouched for this long has no writer to come back for it.</summary>
    private static readonly TimeSpan s_orphanedWriteAge = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The first round reads the disk: not on the thread that starts the host.
        await Task.Yield();

        var failedRounds = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await DrainAsync(stoppingToken);
                failedRounds = 0;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // Postgres away, a disk error, a bug: the deliveries are still on disk, so keep the host up and retry.
                failedRounds++;
                LogDrainFailed(logger, failedRounds, exception);
            }

            await Task.Delay(failedRounds == 0 ? options.Value.PollInterval : RetryDelay(failedRounds), clock, stoppingToken);
        }
    }

    /// <summary>Doubling from 2 s up to 15 s, with jitter so that instances sharing the spool do not retry in step.</summary>
    private static TimeSpan RetryDelay(int failedRounds)
    {
        var delay = s_firstRetryDelay * Math.Pow(2, Math.Min(failedRounds - 1, 8));
        var capped = delay < s_maxRetryDelay ? delay : s_maxRetryDelay;
        return capped * (0.8 + (0.4 * Random.Shared.NextDouble()));
    }

    /// <summary>One round over the spool: settles orphaned writes, then drains every batch nobody else holds.</summary>
    internal async Task DrainAsync(CancellationToken cancellationToken)
    {
        foreach (var temporary in spool.OrphanedWrites(s_orphanedWriteAge))
        {
            try
            {
                if (spool.RecoverOrphanedWrite(temporary) is var outcome and not OrphanedWriteOutcome.InUse)
                {
                    LogOrphanedWrite(logger, Path.GetFileName(temporary), outcome);
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                LogFileFailed(logger, Path.GetFileName(temporary), exception);
            }
        }

        foreach (var file in spool.Files())
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                await DrainFileAsync(file, cancellationToken);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // This file cannot be read or moved now: it waits for the next round, the others go on.
                LogFileFailed(logger, Path.GetFileName(file), exception);
            }
        }
    }

    private async Task DrainFileAsync(string file, CancellationToken cancellationToken)
    {
        using var claim = spool.TryClaim(file);
        if (claim is null)
        {
            return; // Another drainer holds it or has finished it.
        }

        var name = Path.GetFileName(file);
        var contents = claim.Read();
        if (!contents.IsComplete)
        {
            // Every delivery in here was acknowledged to Meta: what can be read is spooled again as a sound batch,
            // and the damaged file is kept for a person.
            if (contents.Deliveries.Count > 0)
            {
                spool.Append(contents.Deliveries);
            }

            LogQuarantinedDamaged(logger, name, contents.Deliveries.Count, claim.Quarantine());
            return;
        }

        if (contents.Deliveries.Count > 0)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await InboxTable.InsertAsync(connection, transaction, contents.Deliveries, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            catch (PostgresException exception) when (RefusesContent(exception))
            {
                // It would be refused every round and, first in line, hold up every batch behind it.
                LogQuarantinedRefused(logger, exception, name, contents.Deliveries.Count, claim.Quarantine());
                return;
            }
        }

        claim.Complete();
        LogDrained(logger, contents.Deliveries.Count, name);
        inbox.RequestSweep();
    }

    /// <summary>Data exceptions (class 22) and program limits (class 54) come from the batch itself, not from the
    /// state of the server: retrying cannot help.</summary>
    private static bool RefusesContent(PostgresException exception) =>
        exception.SqlState.StartsWith("22", StringComparison.Ordinal) || exception.SqlState.StartsWith("54", StringComparison.Ordinal);

    /// <summary>Degraded while deliveries wait in the spool (Ava is receiving, but not yet processing them), and
    /// while damaged batches wait in quarantine for a person.</summary>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var quarantined = spool.QuarantinedCount;
        return Task.FromResult(
            quarantined > 0 ? HealthCheckResult.Degraded($"{quarantined} damaged spool files wait in {spool.QuarantineDirectory}.")
            : !spool.IsEmpty ? HealthCheckResult.Degraded("Deliveries are waiting in the spool for Postgres.")
            : HealthCheckResult.Healthy());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Moved {Count} spooled deliveries from {File} into Postgres")]
    private static partial void LogDrained(ILogger logger, int count, string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not drain the spool ({FailedRounds} rounds in a row); retrying")]
    private static partial void LogDrainFailed(ILogger logger, int failedRounds, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not handle the spool file {File} this round; retrying")]
    private static partial void LogFileFailed(ILogger logger, string file, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Temporary spool file {File} was left by a stopped writer: {Outcome}")]
    private static partial void LogOrphanedWrite(ILogger logger, string file, OrphanedWriteOutcome outcome);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Spool file {File} is damaged: its {Readable} readable deliveries were spooled again, the file is kept at {Quarantined}; the rest of its deliveries need a person")]
    private static partial void LogQuarantinedDamaged(ILogger logger, string file, int readable, string quarantined);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Postgres refuses the {Count} deliveries of spool file {File}; the file is kept at {Quarantined} for a person")]
    private static partial void LogQuarantinedRefused(ILogger logger, Exception exception, string file, int count, string quarantined);
}
