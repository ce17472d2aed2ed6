using System.Collections.Concurrent;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>
/// Works through the outbox as a pipeline: a claimer takes due replies in batches (claim token and a short lease,
/// renewed while held); each reply is sent on its own (many in flight) by the <see cref="ClaimedReplySender"/> — at
/// its number's pace, in a send slot, just after the message it answers is marked read (see <see cref="ReadReceipts"/>)
/// — and its outcome goes to the <see cref="ReplyOutcomeRecorder"/>, which writes outcomes many per statement. Nothing
/// is sent while the access token is refused (see <see cref="AccessTokenMonitor"/>).
/// </summary>
/// <remarks>
/// A reply Meta accepted is never sent again by Ava's doing: a send is started only while its lease surely outlasts
/// the send's timeout, sends in flight are never cancelled (not even when the host stops — they finish and are
/// recorded), and a failed record is retried, never the send. Meta offers no idempotency key: a send whose answer
/// was lost, or whose sender died before recording it, is recorded from the status Meta sends for it, which names
/// the reply (see <see cref="ReplyReference"/>); after an outage of Postgres, expired claims are taken over only
/// once their holders had a lease's time to record (see <see cref="DatabaseOutage"/>).
/// </remarks>
internal sealed partial class ReplySender(
    NpgsqlDataSource dataSource,
    OutboxQueue outbox,
    ClaimedReplySender sender,
    ReplyOutcomeRecorder recorder,
    SendPacer pacer,
    AccessTokenMonitor accessToken,
    WhatsAppTelemetry telemetry,
    TimeProvider clock,
    IOptions<WhatsAppProcessingOptions> options,
    ILogger<ReplySender> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<Task, bool> _sends = new();

    private WhatsAppProcessingOptions Settings => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var recording = Task.Run(recorder.RunAsync, CancellationToken.None);
        try
        {
            await TakeWorkAsync(stoppingToken);
        }
        finally
        {
            // Stopping: sends in flight finish, replies not yet sent are handed back, and everything is recorded.
            outbox.Close();
            HandBack(outbox.Take(int.MaxValue));

            await Task.WhenAll(_sends.Keys);
            recorder.Complete();
            await recording;
        }
    }

    /// <summary>
    /// Starts the replies the processor handed over, and sweeps the outbox for the rest — retries that are due,
    /// replies that did not fit the handoff, a dead instance's claims — when told there are some, and once per poll
    /// interval in any case, as far as there is room.
    /// </summary>
    private async Task TakeWorkAsync(CancellationToken stoppingToken)
    {
        var nextSweep = clock.GetTimestamp();
        var backlog = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var handed = outbox.Take(int.MaxValue);
                if (accessToken.SendingPaused)
                {
                    // The Graph API refuses the access token: replies wait in the outbox, unattempted, for any
                    // instance that may send; this one sweeps again when the token is accepted.
                    HandBack(handed);
                    await outbox.Arrived.WaitAsync(Settings.PollInterval, stoppingToken);
                    continue;
                }

                Start(handed, stoppingToken);

                if (outbox.TakeSweepRequest() || clock.GetTimestamp() >= nextSweep)
                {
                    var sweep = await SweepAsync(stoppingToken);
                    if (sweep.Result == SweepResult.NoRoom && backlog)
                    {
                        // The last sweep filled a whole batch, so more is waiting (e.g. a backlog resumed after an
                        // outage): sweep again as soon as sends in hand finish, not a poll interval later.
                        await outbox.RoomFreed.WaitAsync(Settings.PollInterval, stoppingToken);
                        continue;
                    }

                    backlog = sweep.Filled(Settings.SendBatchSize);
                    nextSweep = clock.GetTimestamp() + (backlog ? 0 : (long)(Settings.PollInterval.TotalSeconds * clock.TimestampFrequency));
                    if (sweep.Rows.Count > 0)
                    {
                        continue;
                    }
                }

                if (handed.Count == 0)
                {
                    var untilSweep = clock.GetElapsedTime(clock.GetTimestamp(), nextSweep);
                    await outbox.Arrived.WaitAsync(untilSweep > TimeSpan.Zero ? untilSweep : TimeSpan.Zero, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                LogWorkerFailed(logger, exception);
                await Task.Delay(Settings.PollInterval, clock, stoppingToken);
            }
        }
    }

    /// <summary>Claims due replies as far as there is room for a worthwhile batch, and starts them.</summary>
    private async Task<Sweep<ClaimedReply>> SweepAsync(CancellationToken stoppingToken)
    {
        var sweep = await outbox.SweepAsync(
            Settings.SendBatchSize,
            minimum: Math.Min(Settings.SendBatchSize, 16),
            (token, limit, lease, takeOver, cancellationToken) =>
                OutboxTable.ClaimAsync(dataSource, token, limit, lease, takeOver, pacer.SaturatedNumbers(), cancellationToken),
            exception => WorkerLog.DatabaseUnavailable(logger, exception));
        if (sweep.Rows.Count > 0)
        {
            telemetry.SendBatchSize.Record(sweep.Rows.Count);
            Start(sweep.Rows, stoppingToken);
        }

        return sweep;
    }

    /// <summary>Hands replies back unsent and unattempted, for a sweep to claim them again.</summary>
    private void HandBack(IEnumerable<ClaimedReply> replies)
    {
        foreach (var reply in replies)
        {
            recorder.Add(new ReplyOutcome(reply.Id, reply.Token, ReplyState.Released, Attempted: false));
        }
    }

    private void Start(List<ClaimedReply> replies, CancellationToken stoppingToken)
    {
        foreach (var reply in replies)
        {
            var send = sender.SendAsync(reply, stoppingToken);
            _sends[send] = true;
            _ = send.ContinueWith(done => _sends.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The reply sender hit an unexpected error; it carries on")]
    private static partial void LogWorkerFailed(ILogger logger, Exception exception);
}
