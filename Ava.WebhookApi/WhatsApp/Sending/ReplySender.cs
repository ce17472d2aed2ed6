using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>
/// Works through the outbox as a pipeline: a claimer takes due replies in batches (claim token and a short lease,
/// renewed while held); each reply waits for its number's pace and a send slot, is sent on its own (many in flight),
/// just after the message it answers is marked read (see <see cref="ReadReceipts"/>), and its outcome goes to the
/// <see cref="ReplyOutcomeRecorder"/>, which writes outcomes many per statement. Nothing is sent while the access
/// token is refused (see <see cref="AccessTokenMonitor"/>).
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
    GraphApiClient graph,
    OutboxQueue outbox,
    ReplyOutcomeRecorder recorder,
    SendPacer pacer,
    GraphRecovery recovery,
    AccessTokenMonitor accessToken,
    ReadReceipts readReceipts,
    WhatsAppTelemetry telemetry,
    TimeProvider clock,
    IOptions<WhatsAppProcessingOptions> options,
    ILogger<ReplySender> logger) : BackgroundService
{
    /// <summary>Replies made due at a time when the Graph API answers a number again: about a minute of sending at the top tier.</summary>
    private const int ResumeBatchSize = 50_000;

    /// <summary>Sends that failed just before the recovery are recorded a moment after it: they are resumed by a second pass.</summary>
    private static readonly TimeSpan s_secondResumeDelay = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<Task, bool> _sends = new();
    private SemaphoreSlim? _sendSlots;

    private WhatsAppProcessingOptions Settings => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _sendSlots = new SemaphoreSlim(Settings.MaxConcurrentSends);
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
            var send = SendAsync(reply, stoppingToken);
            _sends[send] = true;
            _ = send.ContinueWith(done => _sends.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task SendAsync(ClaimedReply reply, CancellationToken stoppingToken)
    {
        ReplyOutcome outcome;
        try
        {
            outcome = ReplyRetryPolicy.Expired(reply, clock.GetUtcNow())
                ?? ReplyRetryPolicy.TakenOver(reply)
                ?? await PaceAndSendAsync(reply, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            outcome = new ReplyOutcome(reply.Id, reply.Token, ReplyState.Released, Attempted: false);
        }
        catch (Exception exception)
        {
            // Not sent (the send itself reports its failures as results): hand it back to be tried again.
            LogWorkerFailed(logger, exception);
            outcome = new ReplyOutcome(reply.Id, reply.Token, ReplyState.Retry, Attempted: false, ErrorTitle: exception.Message, RetryIn: Settings.RetryBaseDelay);
        }

        if (outcome is { State: ReplyState.Failed, Attempted: false })
        {
            LogFailed(logger, reply.Id, reply.Attempts, outcome.ErrorCode, outcome.ErrorTitle);
        }

        recorder.Add(outcome with { TurnId = reply.TurnId });
    }

    private async Task<ReplyOutcome> PaceAndSendAsync(ClaimedReply reply, CancellationToken stoppingToken)
    {
        // The message is marked read on the first attempt only: retries during an outage cost Meta no extra calls. The
        // read receipt takes a turn of the number's pace of its own, as Meta counts it against the number's rate.
        var markRead = Settings.MarkReadAndTyping && reply.Attempts == 0 ? reply.InboundWamid : null;
        await pacer.WaitTurnAsync(reply.PhoneNumberId, stoppingToken);
        if (markRead is not null)
        {
            await pacer.WaitTurnAsync(reply.PhoneNumberId, stoppingToken);
        }

        await _sendSlots!.WaitAsync(stoppingToken);
        try
        {
            // Sending continues the trace of the message being answered.
            ActivityContext.TryParse(reply.TraceParent, null, out var processedIn);

            // Just before the reply, so that the typing indicator shows while it is on its way and the reply ends it.
            if (markRead is not null && !accessToken.SendingPaused)
            {
                await readReceipts.MarkReadWithTypingAsync(reply.PhoneNumberId, markRead, processedIn);
            }

            // A send that could outlive the lease might be taken over and sent again by another instance; and while
            // the access token is refused, no send can succeed.
            if (accessToken.SendingPaused
                || outbox.Remaining(reply) <= Settings.GraphSendTimeout + WhatsAppProcessingOptions.RecordMargin)
            {
                return new ReplyOutcome(reply.Id, reply.Token, ReplyState.Released, Attempted: false);
            }

            using var activity = WhatsAppTelemetry.ActivitySource.StartActivity("graph send", ActivityKind.Internal, processedIn);
            activity?.SetTag("ava.reply.id", reply.Id);
            activity?.SetTag("ava.reply.attempt", reply.Attempts + 1);

            // Never cancelled: a send abandoned half-way may still have reached Meta.
            var result = await graph.SendTextAsync(reply.PhoneNumberId, reply.ToPhone, reply.ToUserId, reply.Body, new ReplyReference(reply.Id, reply.Reference), CancellationToken.None);
            activity?.SetTag("ava.reply.outcome", result.Outcome.ToString());

            var outcome = ReplyRetryPolicy.Decide(reply, result, clock.GetUtcNow(), Settings.RetryBaseDelay, Settings.MaxRetryDelay);
            if (result.RefusesToken)
            {
                accessToken.Refused(result);
            }
            else if (result.RefusesNumber)
            {
                LogNumberRefused(logger, reply.PhoneNumberId, result.ErrorCode, result.ErrorTitle);
            }

            if (recovery.Observe(reply.PhoneNumberId, result))
            {
                _ = ResumeAsync(reply.PhoneNumberId);
            }

            if (ReplyRetryPolicy.ThrottlesNumber(result))
            {
                pacer.Pause(reply.PhoneNumberId, ReplyRetryPolicy.NumberPause(result, outcome));
            }

            switch (outcome.State)
            {
                case ReplyState.Sent:
                    telemetry.RepliesSent.Add(1);
                    break;
                case ReplyState.Released:
                    // The access token was refused: not an attempt and not a failure; the reply waits for the token.
                    break;
                case ReplyState.Retry:
                    LogWillRetry(logger, reply.Id, reply.Attempts + 1, result.ErrorCode, result.ErrorTitle, outcome.RetryIn!.Value);
                    CountFailure(result, retried: true);
                    break;
                default:
                    activity?.SetStatus(ActivityStatusCode.Error, outcome.ErrorTitle);
                    LogFailed(logger, reply.Id, reply.Attempts + 1, outcome.ErrorCode, outcome.ErrorTitle);
                    CountFailure(result, retried: false);
                    break;
            }

            return outcome;
        }
        finally
        {
            _sendSlots.Release();
        }
    }

    /// <summary>The Graph API answers this number again: its replies waiting out a backoff go now, at its pace.</summary>
    private async Task ResumeAsync(string phoneNumberId)
    {
        try
        {
            var resumed = await OutboxTable.ResumeAsync(dataSource, phoneNumberId, ResumeBatchSize, ReplyRetryPolicy.PairRateLimitCode, CancellationToken.None);
            await Task.Delay(s_secondResumeDelay, clock);
            resumed += await OutboxTable.ResumeAsync(dataSource, phoneNumberId, ResumeBatchSize, ReplyRetryPolicy.PairRateLimitCode, CancellationToken.None);
            LogResumed(logger, phoneNumberId, resumed);
            outbox.RequestSweep();
        }
        catch (Exception exception)
        {
            // Not resumed: the replies are still sent, when their own retry time comes.
            LogResumeFailed(logger, phoneNumberId, exception);
        }
    }

    private void CountFailure(GraphSendResult result, bool retried) => telemetry.SendFailures.Add(
        1,
        new KeyValuePair<string, object?>("meta.error_code", result.ErrorCode?.ToString(CultureInfo.InvariantCulture) ?? "none"),
        new KeyValuePair<string, object?>("retried", retried));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reply {ReplyId} not accepted (attempt {Attempt}, Meta code {ErrorCode}: {ErrorTitle}); retrying in {Delay}")]
    private static partial void LogWillRetry(ILogger logger, long replyId, int attempt, int? errorCode, string? errorTitle, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reply {ReplyId} failed for good after {Attempt} attempt(s): Meta code {ErrorCode}: {ErrorTitle}")]
    private static partial void LogFailed(ILogger logger, long replyId, int attempt, int? errorCode, string? errorTitle);

    [LoggerMessage(Level = LogLevel.Information, Message = "The Graph API answers business number {PhoneNumberId} again: {Count} replies waiting for a retry go now")]
    private static partial void LogResumed(ILogger logger, string phoneNumberId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not resume the waiting replies of business number {PhoneNumberId}; they go at their own retry time")]
    private static partial void LogResumeFailed(ILogger logger, string phoneNumberId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "The access token may not send from business number {PhoneNumberId} (Meta code {ErrorCode}: {ErrorTitle}); that number backs off, the others send on")]
    private static partial void LogNumberRefused(ILogger logger, string phoneNumberId, int? errorCode, string? errorTitle);

    [LoggerMessage(Level = LogLevel.Error, Message = "The reply sender hit an unexpected error; it carries on")]
    private static partial void LogWorkerFailed(ILogger logger, Exception exception);
}
