using System.Threading.Channels;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Responding;

/// <summary>
/// Writes the endings of composed turns — their status, replies and history lines — many turns per transaction, one
/// transaction at a time, and hands single replies to this instance's sender already claimed.
/// </summary>
internal sealed class TurnEndingRecorder(
    NpgsqlDataSource dataSource,
    OutboxQueue outbox,
    TurnQueue turns,
    TimeProvider clock,
    IOptions<WhatsAppProcessingOptions> processing)
{
    // Not single-reader: the recorder reads the count of waiting endings, which only this kind of channel keeps.
    private readonly Channel<PendingEnding> _endings = Channel.CreateUnbounded<PendingEnding>();

    /// <returns>Whether the turn ended (false: its claim was lost and nothing of it was written).</returns>
    /// <exception cref="Exception">The write failed: the turn is its composer's to hand back.</exception>
    public Task<bool> EndAsync(TurnEnding ending)
    {
        var pending = new PendingEnding(ending, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        _endings.Writer.TryWrite(pending);
        return pending.Written.Task;
    }

    /// <summary>No more endings come: <see cref="RunAsync"/> ends once it has written the last.</summary>
    public void Complete() => _endings.Writer.TryComplete();

    /// <summary>
    /// Writes turn endings as they come, many per transaction (fewer, bigger commits: the cost that bounds Postgres
    /// here), until the composer stops and all are written. A single reply goes to this instance's sender already
    /// claimed when it has room; several are swept one after another, in order.
    /// </summary>
    public async Task RunAsync()
    {
        var batchSize = processing.Value.SendBatchSize;
        var batch = new List<PendingEnding>(batchSize);
        while (await _endings.Reader.WaitToReadAsync())
        {
            if (_endings.Reader.Count < batchSize && !_endings.Reader.Completion.IsCompleted)
            {
                await Task.Delay(processing.Value.BatchLinger, clock);
            }

            batch.Clear();
            while (batch.Count < batchSize && _endings.Reader.TryRead(out var ending))
            {
                batch.Add(ending);
            }

            var endings = batch.Select(p => p.Ending).ToList();
            using var handover = outbox.TryReserve(endings.Where(e => e.HandOver).Sum(e => e.Replies.Count));
            var handedToken = handover is null ? (Guid?)null : Guid.CreateVersion7();
            var claimedAt = clock.GetTimestamp();
            try
            {
                var (ended, handed) = await TurnsTable.EndAsync(dataSource, endings, handedToken, processing.Value.ClaimLease, CancellationToken.None);
                handover?.Hand(handedToken!.Value, handed, claimedAt);

                var written = endings.Where(e => ended.Contains(e.Turn.Id)).ToList();
                if (written.Any(e => e.Replies.Count > 0 && (!e.HandOver || handover is null)))
                {
                    outbox.RequestSweep();
                }

                if (written.Any(e => e.Replies.Count == 0))
                {
                    // No reply to wait for: those users' next turns may start now.
                    turns.RequestSweep();
                }

                foreach (var pending in batch)
                {
                    pending.Written.TrySetResult(ended.Contains(pending.Ending.Turn.Id));
                }
            }
            catch (Exception exception)
            {
                // Each turn's composer hands its turn back: the responder is asked again, which is safe.
                foreach (var pending in batch)
                {
                    pending.Written.TrySetException(exception);
                }
            }
        }
    }

    /// <param name="Written">Whether the turn ended (false: its claim was lost and nothing of it was written).</param>
    private sealed record PendingEnding(TurnEnding Ending, TaskCompletionSource<bool> Written);
}
