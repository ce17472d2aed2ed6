using Ava.WebhookApi.WhatsApp.Storage;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Replay;

/// <summary>
/// Lists what failed for good — deliveries set aside, replies refused or out of their window — and puts it back to
/// be done again. A replayed row looks like new work to the pipeline (pending, unclaimed, due now, no failures
/// counted), so any instance's next sweep takes it under a fresh claim, fenced as usual; this instance sweeps at
/// once. The exactly-once gate still holds: a replayed delivery whose messages were handled meanwhile causes nothing.
/// </summary>
internal sealed partial class FailedWorkReplay(
    NpgsqlDataSource dataSource,
    InboxQueue inbox,
    OutboxQueue outbox,
    TurnQueue turns,
    TimeProvider clock,
    ILogger<FailedWorkReplay> logger)
{
    /// <summary>The most rows of each kind one listing or replay touches.</summary>
    public const int MaxBatch = 500;

    public async Task<FailedWork> ListAsync(int limit, CancellationToken cancellationToken)
    {
        var deliveries = await InboxTable.ListFailedAsync(dataSource, limit, cancellationToken);
        var replies = await OutboxTable.ListFailedAsync(dataSource, ids: null, limit, cancellationToken);
        var failedTurns = await TurnsTable.ListFailedAsync(dataSource, ids: null, limit, cancellationToken);
        var now = clock.GetUtcNow();
        return new FailedWork(
            [.. deliveries.Select(FailedDeliveryItem.From)], [.. replies.Select(r => FailedReplyItem.From(r, now))], [.. failedTurns.Select(t => FailedTurnItem.From(t, now))]);
    }

    /// <param name="deliveryIds">The deliveries to replay; null for every failed one (up to <see cref="MaxBatch"/>).</param>
    /// <param name="replyIds">The replies to replay; null for every failed one (up to <see cref="MaxBatch"/>, newest first, so those still in their window come first).</param>
    /// <param name="turnIds">The turns to ask the responder about again; null for every failed one (as replies).</param>
    public async Task<ReplayResult> ReplayAsync(
        IReadOnlyCollection<long>? deliveryIds, IReadOnlyCollection<long>? replyIds, IReadOnlyCollection<long>? turnIds, CancellationToken cancellationToken)
    {
        List<long> replayedDeliveries = deliveryIds is { Count: 0 }
            ? []
            : await InboxTable.RequeueFailedAsync(dataSource, deliveryIds, MaxBatch, cancellationToken);

        var candidates = replyIds is { Count: 0 }
            ? []
            : await OutboxTable.ListFailedAsync(dataSource, replyIds, MaxBatch, cancellationToken);
        var (requeue, refused) = ReplayPolicy.Decide(candidates, clock.GetUtcNow());
        var replayedReplies = requeue.Count == 0 ? [] : await RequeueRepliesAsync(requeue, cancellationToken);

        var failedTurns = turnIds is { Count: 0 }
            ? []
            : await TurnsTable.ListFailedAsync(dataSource, turnIds, MaxBatch, cancellationToken);
        var (turnsToRequeue, turnsRefused) = ReplayPolicy.Decide(failedTurns, clock.GetUtcNow());
        var replayedTurns = turnsToRequeue.Count == 0 ? [] : await TurnsTable.RequeueFailedAsync(dataSource, turnsToRequeue, cancellationToken);
        replayedTurns.Sort();

        if (replayedDeliveries.Count > 0)
        {
            inbox.RequestSweep();
        }

        if (replayedReplies.Count > 0)
        {
            outbox.RequestSweep();
        }

        if (replayedTurns.Count > 0)
        {
            turns.RequestSweep();
        }

        LogReplayed(logger, replayedDeliveries.Count, replayedDeliveries, replayedReplies.Count, replayedReplies, refused.Count, refused.Select(r => r.Id));
        if (failedTurns.Count > 0)
        {
            LogTurnsReplayed(logger, replayedTurns.Count, replayedTurns, turnsRefused.Count, turnsRefused.Select(r => r.Id));
        }

        var handledReplies = replayedReplies.Concat(refused.Select(r => r.Id)).ToHashSet();
        return new ReplayResult(
            new DeliveriesReplayed(
                replayedDeliveries.Count,
                replayedDeliveries,
                deliveryIds?.Except(replayedDeliveries).Order().ToList() ?? []),
            new RepliesReplayed(
                replayedReplies.Count,
                refused.Count,
                replayedReplies,
                refused,
                replyIds?.Where(id => !handledReplies.Contains(id)).Distinct().Order().ToList() ?? []),
            Replayed(replayedTurns, turnsRefused, turnIds));
    }

    private static RepliesReplayed Replayed(List<long> replayed, List<ReplyRefusal> refused, IReadOnlyCollection<long>? named)
    {
        var handled = replayed.Concat(refused.Select(r => r.Id)).ToHashSet();
        return new RepliesReplayed(
            replayed.Count, refused.Count, replayed, refused, named?.Where(id => !handled.Contains(id)).Distinct().Order().ToList() ?? []);
    }

    /// <summary>The replies and their history lines turn pending together, in one transaction.</summary>
    /// <returns>The replies that were still failed, and so were re-queued.</returns>
    private async Task<List<long>> RequeueRepliesAsync(List<long> ids, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(OutboxTable.RequeueFailed(ids));
        batch.BatchCommands.Add(MessagesTable.ApplyRequeuedReplies(ids));

        var requeued = new List<long>(ids.Count);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            requeued.Add(reader.GetInt64(0));
        }

        while (await reader.NextResultAsync(cancellationToken))
        {
        }

        requeued.Sort();
        return requeued;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Replayed {TurnCount} failed turns ({TurnIds}); refused {RefusedCount} turns whose window had closed ({RefusedIds})")]
    private static partial void LogTurnsReplayed(ILogger logger, int turnCount, IEnumerable<long> turnIds, int refusedCount, IEnumerable<long> refusedIds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replayed {DeliveryCount} failed deliveries ({DeliveryIds}) and {ReplyCount} failed replies ({ReplyIds}); refused {RefusedCount} replies whose window had closed ({RefusedIds})")]
    private static partial void LogReplayed(
        ILogger logger, int deliveryCount, IEnumerable<long> deliveryIds, int replyCount, IEnumerable<long> replyIds, int refusedCount, IEnumerable<long> refusedIds);
}
