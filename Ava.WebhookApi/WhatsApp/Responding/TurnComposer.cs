using System.Collections.Concurrent;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Responding;

/// <summary>
/// The compose stage, between processing and sending: claims turns (a user's earliest unanswered one, once the
/// replies of the previous have gone), and has the <see cref="ClaimedTurnComposer"/> ask the responder for each — many
/// at once, each as slow as the responder is, holding up nobody else — and write its answer as replies for the outbox
/// in the transaction that ends the turn. While a turn is composed the user sees their message read and Ava typing.
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
    ClaimedTurnComposer composer,
    WhatsAppTelemetry telemetry,
    TimeProvider clock,
    IOptions<ResponderOptions> options,
    IOptions<WhatsAppProcessingOptions> processing,
    ILogger<TurnComposer> logger) : BackgroundService
{
    /// <summary>How often <c>ava.whatsapp.turns.waiting</c> is counted.</summary>
    private static readonly TimeSpan s_countInterval = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<Task, bool> _composing = new();

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
        var compose = composer.ComposeAsync(turn, stoppingToken);
        _composing[compose] = true;
        _ = compose.ContinueWith(done => _composing.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The turn composer hit an unexpected error; it carries on")]
    private static partial void LogWorkerFailed(ILogger logger, Exception exception);
}
