using System.Collections.Concurrent;
using System.Diagnostics;
using Ava.Data.WhatsApp;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Sending;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Responding;

/// <summary>
/// The compose stage, between processing and sending: claims turns (a user's earliest unanswered one, once the
/// replies of the previous have gone), asks the responder for each — many at once, each as slow as the responder is,
/// holding up nobody else — and writes its answer as replies for the outbox in the transaction that ends the turn.
/// While a turn is composed the user sees their message read and Ava typing.
/// </summary>
/// <remarks>
/// A turn's claim is renewed while the responder thinks, so a turn is composed by one instance at a time; one whose
/// holder died is taken over a lease later and the responder asked again (with the same <c>Idempotency-Key</c>).
/// Whatever the responder answered for it, the turn's replies are written once: ending a turn matches its claim and
/// its status, and a turn's replies are keyed by (turn, index).
/// </remarks>
internal sealed partial class TurnComposer(
    NpgsqlDataSource dataSource,
    TurnQueue turns,
    TurnEndingRecorder endings,
    ResponderClient responder,
    ReadReceipts readReceipts,
    SendPacer pacer,
    AccessTokenMonitor accessToken,
    WhatsAppTelemetry telemetry,
    TimeProvider clock,
    IOptions<ResponderOptions> options,
    IOptions<WhatsAppProcessingOptions> processing,
    ILogger<TurnComposer> logger) : BackgroundService
{
    /// <summary>How often <c>ava.whatsapp.turns.waiting</c> is counted.</summary>
    private static readonly TimeSpan s_countInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Statements the composer runs at once. Turns start and end in bursts (thousands wait on one slow responder,
    /// then answer together); each opening a connection of its own would take every slot Postgres has and starve the
    /// inbox, which acknowledges Meta. A few at a time keep up with any responder: a turn's statements take
    /// milliseconds, and its ending is written by the <see cref="TurnEndingRecorder"/>, many at a time.
    /// </summary>
    private const int ConcurrentStatements = 8;

    private readonly ConcurrentDictionary<Task, bool> _composing = new();
    private readonly SemaphoreSlim _statements = new(ConcurrentStatements);


    private ResponderOptions Settings => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Settings.Enabled)
        {
            return;
        }

        var recording = Task.Run(endings.RunAsync, CancellationToken.None);
        try
        {
            await TakeWorkAsync(stoppingToken);
        }
        finally
        {
            // Stopping: calls in flight are abandoned (asking again is safe) and their turns handed back at once;
            // answers already in hand are written.
            turns.Close();
            await Task.WhenAll(_composing.Keys);
            endings.Complete();
            await recording;
        }
    }

    private async Task TakeWorkAsync(CancellationToken stoppingToken)
    {
        var poll = processing.Value.PollInterval;
        var nextSweep = clock.GetTimestamp();
        var nextCount = nextSweep;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (clock.GetTimestamp() >= nextCount)
                {
                    nextCount = clock.GetTimestamp() + (long)(s_countInterval.TotalSeconds * clock.TimestampFrequency);
                    telemetry.TurnsWaiting = await TurnsTable.CountWaitingAsync(dataSource, stoppingToken);
                }

                if (turns.TakeSweepRequest() || clock.GetTimestamp() >= nextSweep)
                {
                    var sweep = await turns.SweepAsync(
                        Settings.MaxConcurrentTurns,
                        minimum: 1,
                        (token, limit, lease, takeOver, cancellationToken) => TurnsTable.ClaimAsync(dataSource, token, limit, lease, takeOver, cancellationToken),
                        exception => WorkerLog.DatabaseUnavailable(logger, exception));
                    foreach (var turn in sweep.Rows)
                    {
                        Start(turn, stoppingToken);
                    }

                    nextSweep = clock.GetTimestamp() + (sweep.Filled(Settings.MaxConcurrentTurns) ? 0 : (long)(poll.TotalSeconds * clock.TimestampFrequency));
                    if (sweep.Result == SweepResult.NoRoom)
                    {
                        // Composing at full stretch: sweep again as soon as a turn ends.
                        await turns.RoomFreed.WaitAsync(poll, stoppingToken);
                        continue;
                    }

                    if (sweep.Rows.Count > 0)
                    {
                        continue;
                    }
                }

                var untilSweep = clock.GetElapsedTime(clock.GetTimestamp(), nextSweep);
                await turns.Arrived.WaitAsync(untilSweep > TimeSpan.Zero ? untilSweep : TimeSpan.Zero, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // Nothing may stop the worker: log, back off, carry on.
                LogWorkerFailed(logger, exception);
                await Task.Delay(poll, clock, stoppingToken);
            }
        }
    }

    private void Start(ClaimedTurn turn, CancellationToken stoppingToken)
    {
        var compose = ComposeAsync(turn, stoppingToken);
        _composing[compose] = true;
        _ = compose.ContinueWith(done => _composing.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task ComposeAsync(ClaimedTurn turn, CancellationToken stoppingToken)
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

        using var typing = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var typingShown = KeepTypingAsync(turn, composing, typing.Token);
        ResponderResult result;
        var started = clock.GetTimestamp();
        try
        {
            using var call = WhatsAppTelemetry.ActivitySource.StartActivity("responder call", ActivityKind.Client, composing);
            result = await responder.AskAsync(TurnPolicy.Request(turn, history), stoppingToken);
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

    /// <summary>
    /// Marks the message read with the typing indicator, and shows the indicator again every
    /// <see cref="ResponderOptions.TypingRenewalInterval"/> for as long as the responder takes (Meta hides it after 25 s).
    /// </summary>
    private async Task KeepTypingAsync(ClaimedTurn turn, ActivityContext composing, CancellationToken cancellationToken)
    {
        if (!processing.Value.MarkReadAndTyping)
        {
            return;
        }

        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (!accessToken.SendingPaused)
                {
                    // Meta counts the call against the number's rate, like a reply.
                    await pacer.WaitTurnAsync(turn.PhoneNumberId, cancellationToken);
                    await readReceipts.MarkReadWithTypingAsync(turn.PhoneNumberId, turn.InboundWamid, composing);
                }

                await Task.Delay(Settings.TypingRenewalInterval, clock, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
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

    [LoggerMessage(Level = LogLevel.Error, Message = "The turn composer hit an unexpected error; it carries on")]
    private static partial void LogWorkerFailed(ILogger logger, Exception exception);
}
