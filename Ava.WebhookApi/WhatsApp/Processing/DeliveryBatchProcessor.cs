using System.Diagnostics;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Media;
using Ava.WebhookApi.WhatsApp.Model;
using Ava.WebhookApi.WhatsApp.Responding;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>
/// Handles a claimed batch of deliveries in one transaction: reads them all, looks up every sender at once (one
/// Redis MGET), lets the exactly-once gate decide which messages are new, plans what they mean, and writes the plan
/// in a few set-based statements — history, replies, statuses, links and the deliveries' outcomes — with one commit.
/// </summary>
internal sealed partial class DeliveryBatchProcessor(
    NpgsqlDataSource dataSource,
    LinkedUserLookup linkedUsers,
    WhatsAppLinking phoneLinking,
    RegistrationReplyThrottle registrationReplies,
    BusinessNumbers businessNumbers,
    OutboxQueue outbox,
    TurnQueue turns,
    MediaQueue media,
    WhatsAppTelemetry telemetry,
    TimeProvider clock,
    IOptions<WhatsAppCloudApiOptions> whatsApp,
    IOptions<WhatsAppProcessingOptions> processing,
    IOptions<ResponderOptions> responder,
    ILogger<DeliveryBatchProcessor> logger)
{
    /// <exception cref="LostClaimException">The lease ran out and another instance took the batch over; nothing was committed.</exception>
    public async Task ProcessAsync(IReadOnlyList<ClaimedDelivery> claim, CancellationToken cancellationToken)
    {
        // The batch links every delivery's trace; each delivery's own span continues the request that received it.
        using var batchActivity = WhatsAppTelemetry.ActivitySource.StartActivity(
            "process deliveries",
            ActivityKind.Consumer,
            parentContext: default,
            links: claim.Select(d => new ActivityLink(ReceivedIn(d))));
        batchActivity?.SetTag("ava.batch.size", claim.Count);
        telemetry.ProcessingBatchSize.Record(claim.Count);

        var deliveryActivities = new List<Activity>(claim.Count);
        try
        {
            var now = clock.GetUtcNow();
            var decoded = new List<DecodedDelivery>(claim.Count);
            foreach (var delivery in claim)
            {
                var activity = WhatsAppTelemetry.ActivitySource.StartActivity("process delivery", ActivityKind.Consumer, ReceivedIn(delivery));
                activity?.SetTag("ava.delivery.id", delivery.Id);
                if (activity is not null)
                {
                    deliveryActivities.Add(activity);
                }

                telemetry.ProcessingLag.Record((now - delivery.ReceivedAt).TotalSeconds);
                var contents = NotificationReader.Read(delivery.Body);
                if (contents is null)
                {
                    LogUnprocessable(logger, delivery.Id, delivery.Body.Length);
                }
                else if (contents.Skipped > 0)
                {
                    LogSkippedParts(logger, delivery.Id, contents.Skipped);
                }

                decoded.Add(new DecodedDelivery(delivery.Id, delivery.Token, contents, activity?.Id));
            }

            var messages = decoded.SelectMany(d => d.Contents?.Messages ?? []).ToList();
            businessNumbers.WarnOfUnknown(messages);
            var users = await linkedUsers.FindAsync(SenderOwners.SendersToLookUp(decoded), cancellationToken);
            var links = await phoneLinking.ResolveAsync(messages);

            var (plan, appliedLinks, changedSenders) = await WriteAsync(decoded, users, links, cancellationToken);

            await linkedUsers.ForgetAfterCommitAsync(changedSenders);
            if (appliedLinks.Count > 0)
            {
                await phoneLinking.AfterCommitAsync(appliedLinks);
            }

            if (plan.Deferred.Count > 0)
            {
                // Their LINK waits for Redis; their other messages were handled and will be duplicates then.
                await InboxTable.ReleaseAsync(
                    dataSource, [.. claim.Where(d => plan.Deferred.Contains(d.Id))], processing.Value.RetryBaseDelay, WhatsAppLinking.DeferredReason, countFailure: false, cancellationToken);
            }

            foreach (var (type, count) in plan.Received)
            {
                telemetry.MessagesReceived.Add(count, new KeyValuePair<string, object?>("type", type));
            }

            telemetry.MessagesDuplicate.Add(plan.Duplicates);
            batchActivity?.SetTag("ava.batch.messages", plan.Received.Values.Sum());
            batchActivity?.SetTag("ava.batch.replies", plan.Replies.Count);

        }
        catch (Exception exception)
        {
            batchActivity?.AddException(exception);
            batchActivity?.SetStatus(ActivityStatusCode.Error);
            throw;
        }
        finally
        {
            foreach (var activity in deliveryActivities)
            {
                activity.Dispose();
            }
        }
    }

    /// <returns>
    /// The plan, its LINK attempts with what each link changed, and every phone and user id whose linked user the
    /// batch changed (for cache invalidation).
    /// </returns>
    private async Task<(DeliveryPlan Plan, List<(LinkAttempt Attempt, WhatsAppLinkChange? Change)> Links, List<string> ChangedSenders)> WriteAsync(
        IReadOnlyList<DecodedDelivery> decoded,
        IReadOnlyDictionary<string, LinkedAccount?> users,
        IReadOnlyDictionary<string, LinkAttempt> links,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var newWamids = await InboundMessagesTable.InsertNewAsync(connection, transaction, DeliveryPlanner.InboundRows(decoded, users, links), cancellationToken);
        var now = clock.GetUtcNow();
        var rules = new PlanningRules(whatsApp.Value.RegistrationMessage, processing.Value.ReplyWindow, whatsApp.Value.PhoneNumberId, responder.Value.Enabled);
        var plan = DeliveryPlanner.Plan(decoded, users, links, newWamids, rules, now);
        if (plan.RegistrationCandidates.Count > 0 && registrationReplies.Enabled)
        {
            // Strangers are told how to register once in a while, not on every message: planned again with the decision.
            var allowed = await registrationReplies.AllowedAsync(plan.RegistrationCandidates);
            plan = DeliveryPlanner.Plan(decoded, users, links, newWamids, rules, now, allowed);
        }

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

        // The accounts phones were taken from are told in their history, in the same commit as the links.
        List<HistoryRow> history = [.. plan.History, .. DeliveryPlanner.MovedAwayNotices(appliedLinks, now)];

        // Replies go to this instance's sender already claimed when it has room, to the outbox for any sender's sweep otherwise.
        using var handover = outbox.TryReserve(plan.Replies.Count);
        var replyToken = handover is null ? (Guid?)null : Guid.CreateVersion7();
        var claimedAt = clock.GetTimestamp();

        await using var batch = new NpgsqlBatch(connection, transaction);
        if (plan.Replies.Count > 0)
        {
            batch.BatchCommands.Add(OutboxTable.Insert(plan.Replies, replyToken, processing.Value.ClaimLease));
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

        await transaction.CommitAsync(cancellationToken);

        if (handover is not null)
        {
            // Replies already seen (ON CONFLICT) were not inserted: the handover gives their room back.
            handover.Hand(replyToken!.Value, claimedReplies, claimedAt);
        }
        else if (plan.Replies.Count > 0)
        {
            outbox.RequestSweep();
        }

        if (plan.Media.Count > 0)
        {
            media.RequestSweep();
        }

        if (plan.Turns.Count > 0)
        {
            // Turns are swept, not handed over: a user's turn may have to wait for their previous one.
            turns.RequestSweep();
        }

        return (plan, appliedLinks, changedSenders);
    }

    private static ActivityContext ReceivedIn(ClaimedDelivery delivery) =>
        ActivityContext.TryParse(delivery.TraceParent, null, out var context) ? context : default;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} ({Length} bytes) is not a WhatsApp notification; kept as unprocessable")]
    private static partial void LogUnprocessable(ILogger logger, long deliveryId, int length);

    [LoggerMessage(Level = LogLevel.Information, Message = "Meta replaced {Count} user id(s); {Moved} linked account(s) moved to the new id")]
    private static partial void LogUserIdsReplaced(ILogger logger, int count, int moved);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId}: skipped {Count} message(s) or status(es) without an id, with an unknown status or of a shape that does not parse")]
    private static partial void LogSkippedParts(ILogger logger, long deliveryId, int count);
}
