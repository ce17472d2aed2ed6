using System.Diagnostics;
using Ava.Data.WhatsApp;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Responding;

/// <summary>
/// Composes a turn the <see cref="TurnComposer"/> claimed: asks the responder with the history before it, the user
/// seeing Ava typing meanwhile, and ends the turn with what the responder answered, through the
/// <see cref="TurnEndingRecorder"/> — or hands it back, to be asked about again after a backoff.
/// </summary>
/// <param name="logger">The compose stage's: what becomes of a turn is logged under the stage's name.</param>
internal sealed partial class ClaimedTurnComposer(
    NpgsqlDataSource dataSource,
    TurnQueue turns,
    TurnEndingRecorder endings,
    ResponderClient responder,
    TypingIndicator typingIndicator,
    WhatsAppTelemetry telemetry,
    TimeProvider clock,
    IOptions<ResponderOptions> options,
    IOptions<WhatsAppProcessingOptions> processing,
    ILogger<TurnComposer> logger)
{
    /// <summary>
    /// Statements the composer runs at once. Turns start and end in bursts (thousands wait on one slow responder,
    /// then answer together); each opening a connection of its own would take every slot Postgres has and starve the
    /// inbox, which acknowledges Meta. A few at a time keep up with any responder: a turn's statements take
    /// milliseconds, and its ending is written by the <see cref="TurnEndingRecorder"/>, many at a time.
    /// </summary>
    private const int ConcurrentStatements = 8;

    private readonly SemaphoreSlim _statements = new(ConcurrentStatements);

    private ResponderOptions Settings => options.Value;

    /// <summary>
    /// Asks the responder about the turn — unless its window is about to close — and ends it with the answer, or the
    /// apology when it failed for good; hands it back to be asked again when the responder could not answer yet.
    /// </summary>
    public async Task ComposeAsync(ClaimedTurn turn, CancellationToken stoppingToken)
    {
        // Composing continues the trace of the message it answers.
        ActivityContext.TryParse(turn.TraceParent, null, out var processedIn);
        using var activity = WhatsAppTelemetry.ActivitySource.StartActivity("compose turn", ActivityKind.Internal, processedIn);
        activity?.SetTag("ava.turn.id", turn.Id);
        activity?.SetTag("ava.turn.attempt", turn.Attempts + 1);
        telemetry.TurnsComposing.Add(1);
        try
        {
            var decision = TurnPolicy.Expired(turn, clock.GetUtcNow(), Settings.FallbackMessage)
                ?? await AskResponderAsync(turn, activity?.Context ?? processedIn, stoppingToken);
            activity?.SetTag("ava.turn.outcome", decision.Retry ? "retry" : decision.Status.ToString().ToLowerInvariant());

            if (decision.RetryIn is { } retryIn)
            {
                LogWillRetry(logger, turn.Id, turn.Attempts + 1, decision.Error, retryIn);
                await WithStatementSlotAsync(() => TurnsTable.ReleaseAsync(dataSource, turn, retryIn, decision.Error, countFailure: true, CancellationToken.None));
                return;
            }

            if (decision.Status == ConversationTurnStatus.Failed)
            {
                activity?.SetStatus(ActivityStatusCode.Error, decision.Error);
                LogFailed(logger, turn.Id, turn.Attempts + 1, decision.Error);
            }

            await EndAsync(turn, decision, activity?.Id);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await TryReleaseAsync(turn, TimeSpan.Zero, error: null, countFailure: false);
        }
        catch (Exception exception) when (Outages.IsOutage(exception))
        {
            LogOutage(logger, turn.Id, exception);
            await TryReleaseAsync(turn, processing.Value.RetryBaseDelay, error: null, countFailure: false);
        }
        catch (Exception exception)
        {
            activity?.AddException(exception);
            LogComposeFailed(logger, turn.Id, exception);
            await TryReleaseAsync(
                turn, Backoff.Delay(turn.Attempts + 1, processing.Value.RetryBaseDelay, processing.Value.MaxRetryDelay), exception.Message, countFailure: true);
        }
        finally
        {
            turns.Finished([turn]);
            telemetry.TurnsComposing.Add(-1);
        }
    }

    /// <summary>Asks the responder, with the user seeing Ava typing meanwhile.</summary>
    private async Task<TurnDecision> AskResponderAsync(ClaimedTurn turn, ActivityContext composing, CancellationToken stoppingToken)
    {
        var history = await WithStatementSlotAsync(() => TurnsTable.HistoryBeforeAsync(dataSource, turn, Settings.HistoryMessages, stoppingToken));
        var media = TurnPolicy.MayCarryMedia(turn)
            ? await WithStatementSlotAsync(() => MediaTable.OfMessageAsync(dataSource, turn.MessageId, stoppingToken))
            : null;

        using var typing = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var typingShown = typingIndicator.KeepShowingAsync(turn, composing, typing.Token);
        ResponderResult result;
        var started = clock.GetTimestamp();
        try
        {
            using var call = WhatsAppTelemetry.ActivitySource.StartActivity("responder call", ActivityKind.Client, composing);
            result = await responder.AskAsync(TurnPolicy.Request(turn, history, media), stoppingToken);
            call?.SetTag("ava.responder.outcome", result.Outcome.ToString());
            call?.SetTag("ava.responder.replies", result.Replies.Count);
            if (result.Outcome != ResponderOutcome.Answered)
            {
                call?.SetStatus(ActivityStatusCode.Error, result.Error);
            }
        }
        finally
        {
            // Before the answer is written: a typing indicator must not come after the reply it announces.
            await typing.CancelAsync();
            await typingShown;
        }

        var outcome = new KeyValuePair<string, object?>("outcome", result.Outcome.ToString());
        telemetry.ResponderLatency.Record(clock.GetElapsedTime(started).TotalSeconds, outcome);
        if (result.Outcome != ResponderOutcome.Answered)
        {
            telemetry.ResponderFailures.Add(1, outcome);
        }

        if (result.Skipped > 0)
        {
            LogSkippedReplies(logger, turn.Id, result.Skipped);
        }

        return TurnPolicy.Decide(turn, result, clock.GetUtcNow(), processing.Value.RetryBaseDelay, processing.Value.MaxRetryDelay, Settings.FallbackMessage);
    }

    /// <summary>Ends the turn with its replies, through the recorder: many turns end in one transaction.</summary>
    private async Task EndAsync(ClaimedTurn turn, TurnDecision decision, string? traceParent)
    {
        var firstIndex = decision.Status == ConversationTurnStatus.Failed ? TurnPolicy.FallbackIndex : 0;
        var (history, replies) = TurnPolicy.Replies(turn, decision.Replies, firstIndex, clock.GetUtcNow(), traceParent);
        if (!await endings.EndAsync(new TurnEnding(turn, decision.Status, decision.Error, history, replies, HandOver: replies.Count == 1)))
        {
            LogLostClaim(logger, turn.Id);
            return;
        }

        telemetry.TurnsEnded.Add(1, new KeyValuePair<string, object?>("status", decision.Status.ToString().ToLowerInvariant()));
    }

    private async Task TryReleaseAsync(ClaimedTurn turn, TimeSpan delay, string? error, bool countFailure)
    {
        try
        {
            await WithStatementSlotAsync(() => TurnsTable.ReleaseAsync(dataSource, turn, delay, error, countFailure, CancellationToken.None));
        }
        catch (Exception exception) when (Outages.IsOutage(exception))
        {
            // Postgres is away: the claim runs out and the turn is claimed again then.
            WorkerLog.DatabaseUnavailable(logger, exception);
        }
    }

    private async Task WithStatementSlotAsync(Func<Task> statement) => await WithStatementSlotAsync(async () =>
    {
        await statement();
        return true;
    });

    /// <summary>Runs a store call once one of the composer's few statement slots is free (see <see cref="ConcurrentStatements"/>).</summary>
    private async Task<T> WithStatementSlotAsync<T>(Func<Task<T>> statement)
    {
        await _statements.WaitAsync();
        try
        {
            return await statement();
        }
        finally
        {
            _statements.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The responder did not answer turn {TurnId} (attempt {Attempt}: {Error}); asking again in {Delay}")]
    private static partial void LogWillRetry(ILogger logger, long turnId, int attempt, string? error, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Turn {TurnId} failed after {Attempt} attempt(s): {Error}; the fallback message goes instead")]
    private static partial void LogFailed(ILogger logger, long turnId, int attempt, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Turn {TurnId} waits for Postgres to be back; it does not count as a failure")]
    private static partial void LogOutage(ILogger logger, long turnId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Composing turn {TurnId} failed; it will be tried again")]
    private static partial void LogComposeFailed(ILogger logger, long turnId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Turn {TurnId} was taken over by another instance before its answer was written; that instance writes it")]
    private static partial void LogLostClaim(ILogger logger, long turnId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The responder's answer to turn {TurnId} had {Count} replies of a type Ava does not send; they were left out")]
    private static partial void LogSkippedReplies(ILogger logger, long turnId, int count);
}
