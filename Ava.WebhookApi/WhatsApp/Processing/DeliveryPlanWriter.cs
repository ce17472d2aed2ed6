using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Model;
using Ava.WebhookApi.WhatsApp.Storage;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>
/// Writes a plan in the batch's transaction: first the links it makes and moves, then its rows — replies, history,
/// turns, media, statuses, and the deliveries' outcomes — in one round trip of set-based statements, completing only
/// deliveries the batch's claim still holds.
/// </summary>
internal static partial class DeliveryPlanWriter
{
    /// <returns>The plan's LINK attempts with what each changed, and every phone and user id whose linked user changed.</returns>
    public static async Task<(List<(LinkAttempt Attempt, WhatsAppLinkChange? Change)> Links, List<string> ChangedSenders)> ApplyLinksAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, DeliveryPlan plan, ILogger logger, CancellationToken cancellationToken)
    {
        // Links are rare: one round trip each, in sender order so that two batches linking the same senders cannot deadlock.
        var appliedLinks = new List<(LinkAttempt Attempt, WhatsAppLinkChange? Change)>(plan.Links.Count);
        var changedSenders = new List<string>();
        foreach (var link in plan.Links.OrderBy(l => l.Sender, StringComparer.Ordinal))
        {
            var change = link.UserId is { } userId
                ? await UserPreferencesTable.LinkAsync(connection, transaction, userId, link, cancellationToken)
                : null;
            appliedLinks.Add((link, change));
            changedSenders.AddRange(change?.ChangedSenders ?? []);
        }

        // So are user ids to record or replace: an account's first message with one, a user's new phone number.
        if (plan.Adoptions.Count > 0)
        {
            changedSenders.AddRange(await UserPreferencesTable.AdoptUserIdsAsync(connection, transaction, plan.Adoptions, cancellationToken));
        }

        if (plan.UserIdChanges.Count > 0)
        {
            var moved = await UserPreferencesTable.ReplaceUserIdsAsync(connection, transaction, plan.UserIdChanges, cancellationToken);
            LogUserIdsReplaced(logger, plan.UserIdChanges.Count, moved.Count / 2);
            changedSenders.AddRange(moved);
        }

        if (plan.PhoneChanges.Count > 0)
        {
            changedSenders.AddRange(await UserPreferencesTable.MovePhonesAsync(connection, transaction, plan.PhoneChanges, plan.UserIdChanges, cancellationToken));
        }

        return (appliedLinks, changedSenders);
    }

    /// <param name="history">The plan's history lines, with any the links add.</param>
    /// <param name="replyToken">
    /// The claim the replies are written under, for this instance's sender; null: unclaimed, for any sender's sweep.
    /// </param>
    /// <returns>The replies written under <paramref name="replyToken"/>.</returns>
    /// <exception cref="LostClaimException">The lease ran out and another instance took deliveries over; nothing may be committed.</exception>
    public static async Task<List<ClaimedReply>> WriteRowsAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        DeliveryPlan plan,
        IReadOnlyList<HistoryRow> history,
        Guid? replyToken,
        TimeSpan lease,
        CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        if (plan.Replies.Count > 0)
        {
            batch.BatchCommands.Add(OutboxTable.Insert(plan.Replies, replyToken, lease));
        }

        if (history.Count > 0)
        {
            batch.BatchCommands.Add(MessagesTable.Insert(history));
        }

        if (plan.Turns.Count > 0)
        {
            batch.BatchCommands.Add(TurnsTable.Insert(plan.Turns));
        }

        if (plan.Media.Count > 0)
        {
            // After the history lines: each media belongs to its message's line.
            batch.BatchCommands.Add(MediaTable.Insert(plan.Media));
        }

        if (plan.Statuses.Count > 0)
        {
            batch.BatchCommands.Add(StatusEventsTable.Insert(plan.Statuses));
            batch.BatchCommands.Add(MessagesTable.LockReplyStatuses(plan.Statuses.Select(s => s.Wamid)));
            if (plan.AcceptedSends.Count > 0)
            {
                batch.BatchCommands.Add(OutboxTable.RecordAccepted(plan.AcceptedSends));
                batch.BatchCommands.Add(MessagesTable.ApplyAcceptedSends(plan.AcceptedSends.Select(a => a.ReplyId)));
            }

            batch.BatchCommands.Add(MessagesTable.ApplyStatuses(plan.Statuses));
        }

        var complete = InboxTable.Complete(plan.Outcomes);
        batch.BatchCommands.Add(complete);

        List<ClaimedReply> claimedReplies = [];
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            if (replyToken is { } token)
            {
                claimedReplies = await OutboxTable.ReadClaimedAsync(reader, token, cancellationToken);
            }

            while (await reader.NextResultAsync(cancellationToken))
            {
            }
        }

        if (complete.RecordsAffected != plan.Outcomes.Count)
        {
            // Disposing the transaction rolls it back: the new holder does the work, exactly once.
            throw new LostClaimException($"{plan.Outcomes.Count - complete.RecordsAffected} of {plan.Outcomes.Count} deliveries were taken over by another instance.");
        }

        return claimedReplies;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Meta replaced {Count} user id(s); {Moved} linked account(s) moved to the new id")]
    private static partial void LogUserIdsReplaced(ILogger logger, int count, int moved);
}
