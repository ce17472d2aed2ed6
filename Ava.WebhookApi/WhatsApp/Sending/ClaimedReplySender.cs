using System.Diagnostics;
using System.Globalization;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>
/// Sends a reply the <see cref="ReplySender"/> claimed: at its number's pace and in one of the
/// <see cref="WhatsAppProcessingOptions.MaxConcurrentSends"/> send slots, just after the message it answers is marked
/// read, and only while its lease outlasts the send. What Meta answers counts at once — a refused token or number, a
/// number that answers again or asks Ava to slow down — and the outcome goes to the <see cref="ReplyOutcomeRecorder"/>.
/// </summary>
/// <param name="logger">The send stage's: what becomes of a reply is logged under the stage's name.</param>
internal sealed partial class ClaimedReplySender(
    GraphApiClient graph,
    OutboxQueue outbox,
    ReplyOutcomeRecorder recorder,
    SendPacer pacer,
    GraphRecovery recovery,
    RecoveryResume resume,
    AccessTokenMonitor accessToken,
    ReadReceipts readReceipts,
    WhatsAppTelemetry telemetry,
    TimeProvider clock,
    IOptions<WhatsAppProcessingOptions> options,
    ILogger<ReplySender> logger)
{
    private readonly SemaphoreSlim _sendSlots = new(options.Value.MaxConcurrentSends);

    private WhatsAppProcessingOptions Settings => options.Value;

    /// <summary>
    /// Sends the reply — unless its window has closed, or it was taken over and waits for a status first — and hands
    /// what became of it to the recorder.
    /// </summary>
    public async Task SendAsync(ClaimedReply reply, CancellationToken stoppingToken)
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

        await _sendSlots.WaitAsync(stoppingToken);
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
                _ = resume.ResumeAsync(reply.PhoneNumberId);
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

    private void CountFailure(GraphSendResult result, bool retried) => telemetry.SendFailures.Add(
        1,
        new KeyValuePair<string, object?>("meta.error_code", result.ErrorCode?.ToString(CultureInfo.InvariantCulture) ?? "none"),
        new KeyValuePair<string, object?>("retried", retried));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reply {ReplyId} not accepted (attempt {Attempt}, Meta code {ErrorCode}: {ErrorTitle}); retrying in {Delay}")]
    private static partial void LogWillRetry(ILogger logger, long replyId, int attempt, int? errorCode, string? errorTitle, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reply {ReplyId} failed for good after {Attempt} attempt(s): Meta code {ErrorCode}: {ErrorTitle}")]
    private static partial void LogFailed(ILogger logger, long replyId, int attempt, int? errorCode, string? errorTitle);

    [LoggerMessage(Level = LogLevel.Error, Message = "The access token may not send from business number {PhoneNumberId} (Meta code {ErrorCode}: {ErrorTitle}); that number backs off, the others send on")]
    private static partial void LogNumberRefused(ILogger logger, string phoneNumberId, int? errorCode, string? errorTitle);

    [LoggerMessage(Level = LogLevel.Error, Message = "The reply sender hit an unexpected error; it carries on")]
    private static partial void LogWorkerFailed(ILogger logger, Exception exception);
}
