using Ava.Data.Messages;
using Ava.Data.WhatsApp;
using Ava.WebhookApi.WhatsApp.Storage;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>
/// Decides what a batch of deliveries means — which messages are new, who gets which reply, what goes into whose
/// history, which phones get linked — without touching a database, so that every rule is unit-tested in
/// milliseconds. The stores then write the plan in a few set-based statements.
/// </summary>
internal static class DeliveryPlanner
{
    public const string NotANotification = "Not a WhatsApp Business Account notification";

    /// <summary>
    /// The dedup rows of every message in the batch, one per wamid (the first occurrence), in wamid order: two
    /// instances inserting overlapping batches then take the unique index's locks in the same order and cannot
    /// deadlock.
    /// </summary>
    public static List<InboundMessageRow> InboundRows(IReadOnlyList<DecodedDelivery> deliveries, IReadOnlyDictionary<string, Guid?> users)
    {
        var rows = new Dictionary<string, InboundMessageRow>(StringComparer.Ordinal);
        foreach (var delivery in deliveries)
        {
            foreach (var message in delivery.Contents?.Messages ?? [])
            {
                rows.TryAdd(message.Wamid, new InboundMessageRow(
                    message.Wamid,
                    delivery.DeliveryId,
                    message.PhoneNumberId,
                    message.FromPhone,
                    message.FromUserId,
                    message.Type,
                    message.Content,
                    message.SentAt,
                    message.FromPhone is { } phone ? users.GetValueOrDefault(phone) : null));
            }
        }

        return [.. rows.Values.OrderBy(r => r.Wamid, StringComparer.Ordinal)];
    }

    /// <summary>
    /// The line each account a phone was taken from finds in its history (Ava speaking, on the WhatsApp channel), so
    /// that a number moving away is never silent, whoever moved it.
    /// </summary>
    /// <param name="applied">The links as applied, with what each changed.</param>
    public static IEnumerable<HistoryRow> MovedAwayNotices(IEnumerable<(LinkAttempt Attempt, PhoneLinkChange? Change)> applied, DateTimeOffset now) =>
        applied
            .Where(a => a.Change?.PreviousOwner is not null)
            .Select(a => new HistoryRow(
                Guid.CreateVersion7(now), a.Change!.PreviousOwner!.Value, MessageRole.Assistant, PhoneLinking.MovedAwayNotice(a.Attempt.Phone), now, ExternalId: null));

    /// <param name="users">The linked user of each sender's phone (null: linked to nobody), as looked up before.</param>
    /// <param name="links">The LINK attempts among the messages, by wamid.</param>
    /// <param name="newWamids">The wamids the exactly-once gate let through: the rest were handled before.</param>
    /// <param name="registrationReplies">
    /// The messages that may be answered with the registration instructions, as <see cref="RegistrationReplyThrottle"/>
    /// decided on the plan's <see cref="DeliveryPlan.RegistrationCandidates"/>; null: every one.
    /// </param>
    public static DeliveryPlan Plan(
        IReadOnlyList<DecodedDelivery> deliveries,
        IReadOnlyDictionary<string, Guid?> users,
        IReadOnlyDictionary<string, LinkAttempt> links,
        IReadOnlySet<string> newWamids,
        PlanningRules rules,
        DateTimeOffset now,
        IReadOnlySet<string>? registrationReplies = null)
    {
        var history = new List<HistoryRow>();
        var replies = new List<ReplyRow>();
        var appliedLinks = new List<LinkAttempt>();
        var outcomes = new List<DeliveryOutcome>(deliveries.Count);
        var received = new Dictionary<string, int>(StringComparer.Ordinal);
        var statuses = new Dictionary<(string, DeliveryStatus), IncomingStatus>();
        var acceptedSends = new SortedDictionary<long, AcceptedSend>();
        var handled = new HashSet<string>(StringComparer.Ordinal);
        var registrationCandidates = new Dictionary<string, string>(StringComparer.Ordinal);
        var duplicates = 0;

        // A LINK earlier in the batch changes who later messages from that phone belong to.
        var owners = new Dictionary<string, Guid?>(users, StringComparer.Ordinal);

        foreach (var delivery in deliveries.OrderBy(d => d.DeliveryId))
        {
            if (delivery.Contents is not { } contents)
            {
                outcomes.Add(new DeliveryOutcome(delivery.DeliveryId, delivery.Token, InboundOutcome.Unprocessable, NotANotification));
                continue;
            }

            outcomes.Add(new DeliveryOutcome(delivery.DeliveryId, delivery.Token, InboundOutcome.Processed, null));

            foreach (var status in contents.Statuses)
            {
                statuses.TryAdd((status.Wamid, status.Status), status);

                // Any status of a send, even "failed", means Meta accepted it under this wamid.
                if (status is { ReplyId: { } replyId, PhoneNumberId: { } number })
                {
                    acceptedSends.TryAdd(replyId, new AcceptedSend(replyId, status.Wamid, number));
                }
            }

            foreach (var arrived in contents.Messages)
            {
                // Meta names the business number each message arrived on; should it not, the reply goes from Ava's own.
                var message = arrived.PhoneNumberId is null && rules.DefaultPhoneNumberId is { } ava ? arrived with { PhoneNumberId = ava } : arrived;
                if (!newWamids.Contains(message.Wamid) || !handled.Add(message.Wamid))
                {
                    duplicates++;
                    continue;
                }

                received[message.Type] = received.GetValueOrDefault(message.Type) + 1;
                var userId = message.FromPhone is { } phone ? owners.GetValueOrDefault(phone) : null;
                var link = links.GetValueOrDefault(message.Wamid);
                if (link is not null)
                {
                    appliedLinks.Add(link);
                    if (link.UserId is { } linkingUser)
                    {
                        owners[link.Phone] = linkingUser;
                        userId = linkingUser;
                    }
                }

                var reply = ReplyPolicy.ReplyTo(message, userId is not null, rules.RegistrationMessage, link);
                if (reply is not null && userId is null && link is null && (message.FromPhone ?? message.FromUserId) is { } sender)
                {
                    // The registration instructions go to a sender once in a while, not once per message.
                    registrationCandidates.TryAdd(sender, message.Wamid);
                    if (registrationReplies is not null && !registrationReplies.Contains(message.Wamid))
                    {
                        reply = null;
                    }
                }

                var writtenAt = message.SentAt is { } sentAt && sentAt < now ? sentAt : now;

                Guid? replyMessageId = null;
                if (userId is { } user)
                {
                    var receivedAt = message.SentAt ?? now;
                    history.Add(new HistoryRow(Guid.CreateVersion7(receivedAt), user, MessageRole.User, message.Content, receivedAt, message.Wamid));
                    if (reply is not null)
                    {
                        // After the user's message even when Meta's clock runs ahead of ours.
                        var repliedAt = now > receivedAt ? now : receivedAt.AddTicks(10);
                        var assistant = new HistoryRow(
                            Guid.CreateVersion7(repliedAt), user, MessageRole.Assistant, reply, repliedAt, ExternalId: null, DeliveryStatus.Pending);
                        history.Add(assistant);
                        replyMessageId = assistant.Id;
                    }
                }

                if (reply is not null)
                {
                    replies.Add(new ReplyRow(
                        message.Wamid, userId, replyMessageId, message.PhoneNumberId!, message.FromPhone!, reply,
                        writtenAt + rules.ReplyWindow, delivery.TraceParent));
                }
            }
        }

        return new DeliveryPlan(
            history,
            replies,
            appliedLinks,
            [.. statuses.Values.OrderBy(s => s.Wamid, StringComparer.Ordinal).ThenBy(s => s.Status)],
            [.. acceptedSends.Values],
            outcomes,
            received,
            duplicates,
            registrationCandidates);
    }
}
