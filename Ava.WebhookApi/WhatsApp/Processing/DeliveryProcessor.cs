using Ava.Data.WhatsApp;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>
/// Works through the inbox: claims batches of pending deliveries (SKIP LOCKED, a claim token and a short lease,
/// renewed while held, so any number of instances share the work and a dead one's claims move on within seconds)
/// and hands each batch to <see cref="DeliveryBatchProcessor"/>. A batch that fails is retried delivery by
/// delivery, so that one poison delivery never holds back its batch-mates; an outage of Postgres or Redis is
/// waited out and never counts against a delivery.
/// </summary>
internal sealed partial class DeliveryProcessor(
    NpgsqlDataSource dataSource,
    DeliveryBatchProcessor batches,
    InboxQueue inbox,
    DatabaseOutage outage,
    TimeProvider clock,
    IOptions<WhatsAppProcessingOptions> options,
    ILogger<DeliveryProcessor> logger) : BackgroundService
{
    private WhatsAppProcessingOptions Settings => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.WhenAll(Enumerable.Range(0, Settings.ProcessingConcurrency).Select(_ => Task.Run(() => WorkAsync(stoppingToken), CancellationToken.None)));
        }
        finally
        {
            // Stopping: deliveries handed over but not yet processed go back to the inbox for the next holder at once.
            inbox.Close();
            var left = inbox.Take(int.MaxValue);
            if (left.Count > 0)
            {
                await ReleaseAsync(left, TimeSpan.Zero, error: null, countFailure: false);
                inbox.Finished(left);
            }
        }
    }

    /// <summary>
    /// Takes what this instance's inbox writer handed over, and sweeps the inbox for the rest — deliveries that did
    /// not fit the handoff, retries that are due, a dead instance's claims — at once when told there are some, and
    /// once per poll interval in any case.
    /// </summary>
    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        var nextSweep = clock.GetTimestamp();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (inbox.TakeSweepRequest() || clock.GetTimestamp() >= nextSweep)
                {
                    var sweep = await inbox.SweepAsync(
                        Settings.ProcessingBatchSize,
                        minimum: 1,
                        (token, limit, lease, takeOver, cancellationToken) => InboxTable.ClaimAsync(dataSource, token, limit, lease, takeOver, cancellationToken),
                        exception => WorkerLog.DatabaseUnavailable(logger, exception));
                    nextSweep = sweep.Filled(Settings.ProcessingBatchSize)
                        ? clock.GetTimestamp()
                        : clock.GetTimestamp() + (long)(Settings.PollInterval.TotalSeconds * clock.TimestampFrequency);
                    if (sweep.Rows.Count > 0)
                    {
                        // A batch in progress is finished even when the host stops: it takes milliseconds, and the claim is ours.
                        await ProcessAndFinishAsync(sweep.Rows);
                        continue;
                    }
                }

                if (inbox.Waiting is > 0 and var waiting && waiting < Settings.ProcessingBatchSize / 2)
                {
                    // A moment's wait makes a bigger batch: fewer statements and commits per message, so more of the
                    // CPU is left for acknowledging Meta. The busier intake is, the more this saves.
                    await Task.Delay(Settings.BatchLinger, clock, stoppingToken);
                }

                var handed = inbox.Take(Settings.ProcessingBatchSize);
                if (handed.Count > 0)
                {
                    await ProcessAndFinishAsync(handed);
                    continue;
                }

                await inbox.Arrived.WaitAsync(clock.GetElapsedTime(clock.GetTimestamp(), nextSweep) is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // Nothing may stop the worker: log, back off, carry on.
                LogWorkerFailed(logger, exception);
                await Task.Delay(Settings.PollInterval, clock, stoppingToken);
            }
        }
    }

    private async Task ProcessAndFinishAsync(List<ClaimedDelivery> claimed)
    {
        try
        {
            await ProcessAsync(claimed, CancellationToken.None);
        }
        finally
        {
            inbox.Finished(claimed);
        }
    }

    private async Task ProcessAsync(IReadOnlyList<ClaimedDelivery> claimed, CancellationToken cancellationToken)
    {
        try
        {
            await batches.ProcessAsync(claimed, cancellationToken);
        }
        catch (LostClaimException exception) when (claimed.Count > 1)
        {
            // Only some were taken over: the others are still ours to do.
            LogLostClaim(logger, exception.Message);
            foreach (var delivery in claimed)
            {
                await ProcessAsync([delivery], cancellationToken);
            }
        }
        catch (LostClaimException exception)
        {
            LogLostClaim(logger, exception.Message);
        }
        catch (Exception exception) when (Outages.IsOutage(exception))
        {
            outage.Observe(exception);
            if (Outages.IsRedis(exception))
            {
                LogWaitsForRedis(logger, claimed.Count, exception);
            }
            else
            {
                LogWaitsForPostgres(logger, claimed.Count, exception);
            }

            await ReleaseAsync(claimed, Settings.RetryBaseDelay, exception.Message, countFailure: false);
        }
        catch (Exception exception) when (claimed.Count > 1)
        {
            LogIsolating(logger, claimed.Count, exception);
            foreach (var delivery in claimed)
            {
                await ProcessAsync([delivery], cancellationToken);
            }
        }
        catch (Exception exception)
        {
            await RecordFailureAsync(claimed[0], exception);
        }
    }

    /// <summary>
    /// A delivery that fails on its own, for a reason that is not an outage, is tried again after a growing delay;
    /// after <see cref="WhatsAppProcessingOptions.MaxProcessingAttempts"/> such failures it is set aside as failed,
    /// with its error, for a person to look at.
    /// </summary>
    private async Task RecordFailureAsync(ClaimedDelivery delivery, Exception exception)
    {
        var failures = delivery.Attempts + 1;
        if (failures >= Settings.MaxProcessingAttempts)
        {
            LogGaveUp(logger, delivery.Id, failures, exception);
            await TryAsync(() => InboxTable.SetAsideAsync(
                dataSource, [new DeliveryOutcome(delivery.Id, delivery.Token, InboundOutcome.Failed, exception.Message)], CancellationToken.None));
            return;
        }

        LogWillRetry(logger, delivery.Id, failures, exception);
        await ReleaseAsync([delivery], Backoff.Delay(failures, Settings.RetryBaseDelay, Settings.MaxRetryDelay), exception.Message, countFailure: true);
    }

    private Task ReleaseAsync(IReadOnlyList<ClaimedDelivery> deliveries, TimeSpan delay, string? error, bool countFailure) =>
        TryAsync(() => InboxTable.ReleaseAsync(dataSource, deliveries, delay, error, countFailure, CancellationToken.None));

    private async Task TryAsync(Func<Task> write)
    {
        try
        {
            await write();
        }
        catch (Exception exception) when (Outages.IsOutage(exception))
        {
            // Postgres is away: the claim's lease runs out and the deliveries are claimed again then.
            outage.Observe(exception);
            WorkerLog.DatabaseUnavailable(logger, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} deliveries waits for Postgres to be back; it does not count as a failure")]
    private static partial void LogWaitsForPostgres(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} deliveries waits for Redis to be back; it does not count as a failure, and other instances' work is still taken over")]
    private static partial void LogWaitsForRedis(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} deliveries failed; processing them one by one to find the one at fault")]
    private static partial void LogIsolating(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "A claim was taken over by another instance before it committed ({Detail}); that instance does the work")]
    private static partial void LogLostClaim(ILogger logger, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "Processing delivery {DeliveryId} failed (failure {Failures}); it will be retried")]
    private static partial void LogWillRetry(ILogger logger, long deliveryId, int failures, Exception exception);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Processing delivery {DeliveryId} failed {Failures} times on its own; set aside as failed")]
    private static partial void LogGaveUp(ILogger logger, long deliveryId, int failures, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "The delivery processor hit an unexpected error; it carries on")]
    private static partial void LogWorkerFailed(ILogger logger, Exception exception);
}
