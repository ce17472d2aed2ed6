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

    /// <summary>
    /// The batch's one transaction: the exactly-once gate, the plan of what the new messages mean, the links it makes,
    /// and its rows, committed together; then the stages after processing are given their work.
    /// </summary>
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
        var plan = await PlanAsync(decoded, users, links, newWamids, now);
        var (appliedLinks, changedSenders) = await DeliveryPlanWriter.ApplyLinksAsync(connection, transaction, plan, logger, cancellationToken);

        // The accounts phones were taken from are told in their history, in the same commit as the links.
        List<HistoryRow> history = [.. plan.History, .. DeliveryPlanner.MovedAwayNotices(appliedLinks, now)];

        // Replies go to this instance's sender already claimed when it has room, to the outbox for any sender's sweep otherwise.
        using var handover = outbox.TryReserve(plan.Replies.Count);
        var replyToken = handover is null ? (Guid?)null : Guid.CreateVersion7();
        var claimedAt = clock.GetTimestamp();
        var claimedReplies = await DeliveryPlanWriter.WriteRowsAsync(
            connection, transaction, plan, history, replyToken, processing.Value.ClaimLease, cancellationToken);

        await transaction.CommitAsync(cancellationToken);

        if (handover is not null)
        {
            // Replies already seen (ON CONFLICT) were not inserted: the handover gives their room back.
            handover.Hand(replyToken!.Value, claimedReplies, claimedAt);
        }

        RequestSweeps(plan, repliesHandedOver: handover is not null);
        return (plan, appliedLinks, changedSenders);
    }

    /// <param name="newWamids">The messages the exactly-once gate let through.</param>
    private async Task<DeliveryPlan> PlanAsync(
        IReadOnlyList<DecodedDelivery> decoded,
        IReadOnlyDictionary<string, LinkedAccount?> users,
        IReadOnlyDictionary<string, LinkAttempt> links,
        IReadOnlySet<string> newWamids,
        DateTimeOffset now)
    {
        var rules = new PlanningRules(whatsApp.Value.RegistrationMessage, processing.Value.ReplyWindow, whatsApp.Value.PhoneNumberId, responder.Value.Enabled);
        var plan = DeliveryPlanner.Plan(decoded, users, links, newWamids, rules, now);
        if (plan.RegistrationCandidates.Count > 0 && registrationReplies.Enabled)
        {
            // Strangers are told how to register once in a while, not on every message: planned again with the decision.
            var allowed = await registrationReplies.AllowedAsync(plan.RegistrationCandidates);
            plan = DeliveryPlanner.Plan(decoded, users, links, newWamids, rules, now, allowed);
        }

        return plan;
    }

    /// <summary>Tells the stages after processing, once the batch is committed, that it left them work to sweep for.</summary>
    private void RequestSweeps(DeliveryPlan plan, bool repliesHandedOver)
    {
        if (!repliesHandedOver && plan.Replies.Count > 0)
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
    }

    private static ActivityContext ReceivedIn(ClaimedDelivery delivery) =>
        ActivityContext.TryParse(delivery.TraceParent, null, out var context) ? context : default;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} ({Length} bytes) is not a WhatsApp notification; kept as unprocessable")]
    private static partial void LogUnprocessable(ILogger logger, long deliveryId, int length);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId}: skipped {Count} message(s) or status(es) without an id, with an unknown status or of a shape that does not parse")]
    private static partial void LogSkippedParts(ILogger logger, long deliveryId, int count);
}
