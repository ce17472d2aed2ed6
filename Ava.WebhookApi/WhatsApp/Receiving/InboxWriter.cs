using System.Diagnostics;
using System.Threading.Channels;
using Ava.WebhookApi.WhatsApp.Model;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Receiving;

/// <summary>
/// Stores each delivery before the webhook answers it. Concurrent requests are written together (one multi-row
/// INSERT per commit); when Postgres cannot take them in time they go to the fsynced <see cref="InboxSpool"/>.
/// Only when neither can store does a request fail, so that Meta retries instead of the delivery being lost.
/// </summary>
internal sealed partial class InboxWriter(
    NpgsqlDataSource dataSource,
    InboxSpool spool,
    InboxQueue processor,
    WhatsAppTelemetry telemetry,
    TimeProvider clock,
    IOptions<WhatsAppProcessingOptions> options,
    ILogger<InboxWriter> logger) : BackgroundService
{
    private const int MaxBatchSize = 256;

    /// <summary>
    /// Batches being committed at once. One slow commit (a disk stall, a busy CPU) must not hold up every request
    /// behind it; Postgres still syncs concurrent commits together.
    /// </summary>
    private const int Writers = 3;

    /// <summary>After Postgres failed a write, deliveries go straight to the spool for this long, so that an outage
    /// does not cost every request the write timeout.</summary>
    private static readonly TimeSpan s_postgresBackoff = TimeSpan.FromSeconds(5);

    private long _skipPostgresUntil;

    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>();

    /// <exception cref="InboxUnavailableException">Neither Postgres nor the spool could store the delivery.</exception>
    public Task StoreAsync(InboundDeliveryRecord delivery)
    {
        var write = new PendingWrite(delivery, Activity.Current?.Context ?? default);
        if (!_queue.Writer.TryWrite(write))
        {
            throw new InboxUnavailableException("The inbox is shutting down.", null);
        }

        return write.Stored.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(() => WriteAsync(stoppingToken), CancellationToken.None)));

        // Stopping: whatever was accepted is still written.
        _queue.Writer.TryComplete();
        await WriteAvailableAsync(new List<PendingWrite>(MaxBatchSize));
    }

    private async Task WriteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<PendingWrite>(MaxBatchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                await WriteAvailableAsync(batch);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task WriteAvailableAsync(List<PendingWrite> batch)
    {
        while (true)
        {
            batch.Clear();
            while (batch.Count < MaxBatchSize && _queue.Reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            if (batch.Count == 0)
            {
                return;
            }

            await WriteBatchAsync(batch);
        }
    }

    private async Task WriteBatchAsync(List<PendingWrite> batch)
    {
        // A lone delivery is stored as part of its request's trace; a group commit links every request it serves.
        using var activity = WhatsAppTelemetry.ActivitySource.StartActivity(
            "inbox store",
            ActivityKind.Internal,
            batch.Count == 1 ? batch[0].RequestContext : default,
            links: batch.Count == 1 ? null : batch.Select(w => new ActivityLink(w.RequestContext)));
        activity?.SetTag("ava.inbox.batch_size", batch.Count);
        var deliveries = batch.ConvertAll(w => w.Delivery);

        var triedPostgres = clock.GetTimestamp() >= Interlocked.Read(ref _skipPostgresUntil);
        if (triedPostgres && await TryWriteToPostgresAsync(deliveries, activity))
        {
            telemetry.DeliveriesReceived.Add(batch.Count);
            Complete(batch, null);
            return;
        }

        Exception spoolFailure;
        try
        {
            spool.Append(deliveries);
            telemetry.DeliveriesSpooled.Add(batch.Count);
            Complete(batch, null);
            return;
        }
        catch (Exception exception)
        {
            spoolFailure = exception;
        }

        // The spool is full or broken; Postgres, skipped since it last failed, may be back by now.
        if (!triedPostgres && await TryWriteToPostgresAsync(deliveries, activity))
        {
            LogSpoolFailedPostgresTook(logger, batch.Count, spoolFailure);
            telemetry.DeliveriesReceived.Add(batch.Count);
            Complete(batch, null);
            return;
        }

        LogSpoolFailed(logger, batch.Count, spoolFailure);
        activity?.SetStatus(ActivityStatusCode.Error, "not stored");
        Complete(batch, new InboxUnavailableException("Neither Postgres nor the spool could store the delivery.", spoolFailure));
    }

    private async Task<bool> TryWriteToPostgresAsync(List<InboundDeliveryRecord> deliveries, Activity? activity)
    {
        // Stored already claimed for this instance's processor when it has room: it takes them from memory, with no
        // claim query and no second write. Otherwise stored unclaimed, for the next sweep here or elsewhere.
        using var handover = processor.TryReserve(deliveries.Count);
        try
        {
            using var timeout = new CancellationTokenSource(options.Value.InboxWriteTimeout);
            await using var connection = await dataSource.OpenConnectionAsync(timeout.Token);
            if (handover is not null)
            {
                var token = Guid.CreateVersion7();
                var claimedAt = clock.GetTimestamp();
                var claimed = await InboxTable.InsertClaimedAsync(connection, deliveries, token, options.Value.ClaimLease, timeout.Token);
                handover.Hand(token, claimed, claimedAt);
            }
            else
            {
                await InboxTable.InsertAsync(connection, null, deliveries, timeout.Token);
                processor.RequestSweep();
            }

            return true;
        }
        catch (Exception exception)
        {
            // Whatever went wrong, the spool can still keep the delivery safe.
            Interlocked.Exchange(ref _skipPostgresUntil, clock.GetTimestamp() + (long)(s_postgresBackoff.TotalSeconds * clock.TimestampFrequency));
            LogPostgresUnavailable(logger, deliveries.Count, exception);
            activity?.AddEvent(new ActivityEvent("postgres unavailable"));
            return false;
        }
    }

    private static void Complete(List<PendingWrite> batch, Exception? failure)
    {
        foreach (var write in batch)
        {
            if (failure is null)
            {
                write.Stored.TrySetResult();
            }
            else
            {
                write.Stored.TrySetException(failure);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Postgres could not take {Count} deliveries in time; spooling them to disk")]
    private static partial void LogPostgresUnavailable(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "The spool could not store {Count} deliveries; Postgres took them after all")]
    private static partial void LogSpoolFailedPostgresTook(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Neither Postgres nor the spool could store {Count} deliveries; answering 503 so that Meta retries")]
    private static partial void LogSpoolFailed(ILogger logger, int count, Exception exception);

    private sealed class PendingWrite(InboundDeliveryRecord delivery, ActivityContext requestContext)
    {
        public InboundDeliveryRecord Delivery { get; } = delivery;

        public ActivityContext RequestContext { get; } = requestContext;

        public TaskCompletionSource Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

internal sealed class InboxUnavailableException(string message, Exception? innerException) : Exception(message, innerException);
