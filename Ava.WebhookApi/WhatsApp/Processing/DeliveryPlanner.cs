using Ava.Data.Messages;
using Ava.Data.WhatsApp;
using Ava.WebhookApi.WhatsApp.Model;
using Ava.WebhookApi.WhatsApp.Storage;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>
/// Decides what a batch of deliveries means — which messages are new, who gets which reply, what goes into whose
/// history, which WhatsApp accounts get linked — without touching a database, so that every rule is unit-tested in
/// milliseconds. The stores then write the plan in a few set-based statements. Whose each message is, as the batch
/// moves that, is for <see cref="SenderOwners"/> to say; the rows a new message leaves, for <see cref="MessageRows"/>.
/// </summary>
internal static class DeliveryPlanner
{
    public const string NotANotification = "Not a WhatsApp Business Account notification";

    /// <summary>
    /// The dedup rows of every message in the batch, one per wamid (the first occurrence), in wamid order: two
    /// instances inserting overlapping batches then take the unique index's locks in the same order and cannot
    /// deadlock. A LINK whose check was deferred gets none: it is new again when its delivery is processed again.
    /// </summary>
    public static List<InboundMessageRow> InboundRows(
        IReadOnlyList<DecodedDelivery> deliveries, IReadOnlyDictionary<string, LinkedAccount?> users, IReadOnlyDictionary<string, LinkAttempt>? links = null)
    {
        var rows = new Dictionary<string, InboundMessageRow>(StringComparer.Ordinal);
        foreach (var delivery in deliveries)
        {
            foreach (var message in delivery.Contents?.Messages ?? [])
            {
                if (links?.GetValueOrDefault(message.Wamid) is { Deferred: true })
                {
                    continue;
                }

                rows.TryAdd(message.Wamid, new InboundMessageRow(
                    message.Wamid,
                    delivery.DeliveryId,
                    message.PhoneNumberId,
                    message.FromPhone,
                    message.FromUserId,
                    message.Type,
                    message.Content,
                    message.SentAt,
                    SenderOwners.OwnerOf(message, users),
                    message.FromUsername,
                    message.FromParentUserId));
            }
        }

        return [.. rows.Values.OrderBy(r => r.Wamid, StringComparer.Ordinal)];
    }

    /// <summary>
    /// The line each account a WhatsApp number (or account) was taken from finds in its history (Ava speaking, on the
    /// WhatsApp channel), so that a number moving away is never silent, whoever moved it.
    /// </summary>
    /// <param name="applied">The links as applied, with what each changed.</param>
    public static IEnumerable<HistoryRow> MovedAwayNotices(IEnumerable<(LinkAttempt Attempt, WhatsAppLinkChange? Change)> applied, DateTimeOffset now) =>
        applied
            .SelectMany(a => (a.Change?.PreviousOwners ?? []).Select(owner => new HistoryRow(
                Guid.CreateVersion7(now), owner, MessageRole.Assistant, WhatsAppLinking.MovedAwayNotice(a.Attempt), now, ExternalId: null)));

    /// <param name="users">
    /// The linked user of each sender's phone and user id (null: linked to nobody), as looked up before (see
    /// <see cref="SenderOwners.SendersToLookUp"/>).
    /// </param>
    /// <param name="links">The LINK attempts among the messages, by wamid.</param>
    /// <param name="newWamids">The wamids the exactly-once gate let through: the rest were handled before.</param>
    /// <param name="registrationReplies">
    /// The messages that may be answered with the registration instructions, as <see cref="RegistrationReplyThrottle"/>
    /// decided on the plan's <see cref="DeliveryPlan.RegistrationCandidates"/>; null: every one.
    /// </param>
    public static DeliveryPlan Plan(
        IReadOnlyList<DecodedDelivery> deliveries,
        IReadOnlyDictionary<string, LinkedAccount?> users,
        IReadOnlyDictionary<string, LinkAttempt> links,
        IReadOnlySet<string> newWamids,
        PlanningRules rules,
        DateTimeOffset now,
        IReadOnlySet<string>? registrationReplies = null)
    {
        var rows = new MessageRows(rules, now);
        var appliedLinks = new List<LinkAttempt>();
        var outcomes = new List<DeliveryOutcome>(deliveries.Count);
        var received = new Dictionary<string, int>(StringComparer.Ordinal);
        var statuses = new Dictionary<(string, DeliveryStatus), IncomingStatus>();
        var acceptedSends = new SortedDictionary<long, AcceptedSend>();
        var handled = new HashSet<string>(StringComparer.Ordinal);
        var registrationCandidates = new Dictionary<string, string>(StringComparer.Ordinal);
        var adoptions = new List<UserIdAdoption>();
        var userIdChanges = new List<UserIdChange>();
        var phoneChanges = new List<PhoneNumberChange>();
        var deferred = new List<long>();
        var duplicates = 0;

        // A LINK or a new user id earlier in the batch changes who later messages from that sender belong to.
        var owners = new Dictionary<string, LinkedAccount?>(users, StringComparer.Ordinal);

        foreach (var delivery in deliveries.OrderBy(d => d.DeliveryId))
        {
            if (delivery.Contents is not { } contents)
            {
                outcomes.Add(new DeliveryOutcome(delivery.DeliveryId, delivery.Token, InboundOutcome.Unprocessable, NotANotification));
                continue;
            }

            // A LINK that could not be checked keeps its delivery for another round; its other messages are handled now.
            if (contents.Messages.Any(m => links.GetValueOrDefault(m.Wamid) is { Deferred: true }))
            {
                deferred.Add(delivery.DeliveryId);
            }
            else
            {
                outcomes.Add(new DeliveryOutcome(delivery.DeliveryId, delivery.Token, InboundOutcome.Processed, null));
            }

            foreach (var change in contents.UserIdChanges ?? [])
            {
                // Applying a change again finds the previous id gone: a repeated delivery changes nothing.
                if (!userIdChanges.Contains(change))
                {
                    userIdChanges.Add(change);
                }

                SenderOwners.ReplaceUserId(owners, change);
            }

            foreach (var change in contents.PhoneChanges ?? [])
            {
                if (!phoneChanges.Contains(change))
                {
                    phoneChanges.Add(change);
                }

                SenderOwners.MovePhone(owners, change);
            }

            foreach (var status in contents.Statuses)
            {
                statuses.TryAdd((status.Wamid, status.Status), status);

                // Any status of a send, even "failed", means Meta accepted it under this wamid.
                if (status is { Reply: { } reply, PhoneNumberId: { } number })
                {
                    acceptedSends.TryAdd(reply.ReplyId, new AcceptedSend(reply, status.Wamid, number, status.RecipientId, status.RecipientUserId));
                }
            }

            foreach (var arrived in contents.Messages)
            {
                // Meta names the business number each message arrived on; should it not, the reply goes from Ava's own.
                var message = arrived.PhoneNumberId is null && rules.DefaultPhoneNumberId is { } ava ? arrived with { PhoneNumberId = ava } : arrived;
                if (links.GetValueOrDefault(message.Wamid) is { Deferred: true })
                {
                    continue;
                }

                if (!newWamids.Contains(message.Wamid) || !handled.Add(message.Wamid))
                {
                    duplicates++;
                    continue;
                }

                received[message.Type] = received.GetValueOrDefault(message.Type) + 1;
                var userId = SenderOwners.OwnerOf(message, owners);
                var link = links.GetValueOrDefault(message.Wamid);
                if (link is not null)
                {
                    appliedLinks.Add(link);
                    if (link.UserId is { } linkingUser)
                    {
                        SenderOwners.Link(owners, link, linkingUser);
                        userId = linkingUser;
                    }
                }
                else if (userId is { } owner && SenderOwners.Adopt(owners, message, owner) is { } adoption)
                {
                    adoptions.Add(adoption);
                }

                var isTurn = rules.ResponderAnswers && ReplyPolicy.IsTurn(message, userId is not null, link);
                var reply = isTurn ? null : ReplyPolicy.ReplyTo(message, userId is not null, rules.RegistrationMessage, link);
                if (reply is not null && userId is null && link is null && message.Sender is { } sender)
                {
                    // The registration instructions go to a sender once in a while, not once per message.
                    registrationCandidates.TryAdd(sender, message.Wamid);
                    if (registrationReplies is not null && !registrationReplies.Contains(message.Wamid))
                    {
                        reply = null;
                    }
                }

                rows.Add(message, delivery.DeliveryId, delivery.TraceParent, userId, isTurn, reply);
            }
        }

        return new DeliveryPlan(
            rows.History,
            rows.Replies,
            rows.Turns,
            rows.Media,
            appliedLinks,
            [.. statuses.Values.OrderBy(s => s.Wamid, StringComparer.Ordinal).ThenBy(s => s.Status)],
            [.. acceptedSends.Values],
            outcomes,
            received,
            duplicates,
            registrationCandidates,
            adoptions,
            userIdChanges,
            phoneChanges,
            deferred);
    }
}
