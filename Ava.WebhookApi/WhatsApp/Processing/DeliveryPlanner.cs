using Ava.Data.Messages;
using Ava.Data.WhatsApp;
using Ava.WebhookApi.WhatsApp.Model;
using Ava.WebhookApi.WhatsApp.Storage;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>
/// Decides what a batch of deliveries means — which messages are new, who gets which reply, what goes into whose
/// history, which WhatsApp accounts get linked — without touching a database, so that every rule is unit-tested in
/// milliseconds. The stores then write the plan in a few set-based statements.
/// </summary>
/// <remarks>
/// A sender is known by their business-scoped user id, their phone, or both; lookups answer for each (see
/// <see cref="SendersToLookUp"/>), and the user id decides when both are linked: it belongs to one WhatsApp account for
/// good, where a phone number can pass to another person.
/// </remarks>
internal static class DeliveryPlanner
{
    public const string NotANotification = "Not a WhatsApp Business Account notification";

    /// <summary>How long Meta keeps a media id of a webhook working.</summary>
    public static readonly TimeSpan MediaIdLifetime = TimeSpan.FromDays(7);

    /// <summary>Every phone and business-scoped user id the batch needs the linked user of.</summary>
    public static HashSet<string> SendersToLookUp(IEnumerable<DecodedDelivery> deliveries)
    {
        var senders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var contents in deliveries.Select(d => d.Contents).OfType<NotificationContents>())
        {
            foreach (var message in contents.Messages)
            {
                if (message.FromPhone is { } phone)
                {
                    senders.Add(phone);
                }

                if (message.FromUserId is { } userId)
                {
                    senders.Add(userId);
                }
            }

            foreach (var change in contents.UserIdChanges ?? [])
            {
                senders.Add(change.Previous);
                senders.Add(change.Current);
            }

            foreach (var change in contents.PhoneChanges ?? [])
            {
                senders.Add(change.Previous);
                senders.Add(change.Current);
            }
        }

        return senders;
    }

    /// <summary>
    /// The user a message's sender is linked to: by user id, else by phone — unless the phone's link records another
    /// user id than the sender's: the number has changed hands, and its next holder is a stranger.
    /// </summary>
    public static Guid? OwnerOf(IncomingMessage message, IReadOnlyDictionary<string, LinkedAccount?> owners) =>
        (message.FromUserId is { } userId ? owners.GetValueOrDefault(userId)?.UserId : null)
        ?? (message.FromPhone is { } phone && owners.GetValueOrDefault(phone) is { } account && IsHolder(account, message.FromUserId)
            ? account.UserId
            : null);

    /// <summary>Whether the person the account's link was made for may be the one writing with this user id.</summary>
    private static bool IsHolder(LinkedAccount account, string? senderUserId) =>
        senderUserId is null || account.WhatsAppUserId is null || account.WhatsAppUserId == senderUserId;

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
                    OwnerOf(message, users),
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
    /// <see cref="SendersToLookUp"/>).
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
        var history = new List<HistoryRow>();
        var replies = new List<ReplyRow>();
        var turns = new List<TurnRow>();
        var media = new List<MediaRow>();
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

                if (owners.GetValueOrDefault(change.Previous) is { } owner && owners.GetValueOrDefault(change.Current) is null)
                {
                    // The account's phone records the new id too.
                    foreach (var key in owners.Where(o => o.Value?.WhatsAppUserId == change.Previous).Select(o => o.Key).ToList())
                    {
                        owners[key] = owners[key]! with { WhatsAppUserId = change.Current };
                    }

                    owners[change.Current] = owner with { WhatsAppUserId = change.Current };
                    owners[change.Previous] = null;
                }
            }

            foreach (var change in contents.PhoneChanges ?? [])
            {
                if (!phoneChanges.Contains(change))
                {
                    phoneChanges.Add(change);
                }

                if (owners.GetValueOrDefault(change.Previous) is { } owner && IsHolder(owner, change.UserId))
                {
                    // Should another account hold the new number, it keeps it (see UserPreferencesTable.MovePhonesAsync).
                    owners[change.Current] = owners.GetValueOrDefault(change.Current) ?? owner;
                    owners[change.Previous] = null;
                }
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
                var userId = OwnerOf(message, owners);
                var link = links.GetValueOrDefault(message.Wamid);
                if (link is not null)
                {
                    appliedLinks.Add(link);
                    if (link.UserId is { } linkingUser)
                    {
                        foreach (var identity in new[] { link.Phone, link.WhatsAppUserId }.OfType<string>())
                        {
                            owners[identity] = new LinkedAccount(linkingUser, link.WhatsAppUserId);
                        }

                        userId = linkingUser;
                    }
                }
                else if (userId is { } owner
                    && message is { FromPhone: { } phone, FromUserId: { } pairedUserId }
                    && owners.TryGetValue(pairedUserId, out var pairedOwner) && pairedOwner is null
                    && owners.GetValueOrDefault(phone)?.UserId == owner)
                {
                    adoptions.Add(new UserIdAdoption(owner, phone, pairedUserId, message.FromUsername));
                    owners[pairedUserId] = owners[phone] = new LinkedAccount(owner, pairedUserId);
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

                var writtenAt = message.SentAt is { } sentAt && sentAt < now ? sentAt : now;

                Guid? replyMessageId = null;
                if (userId is { } user)
                {
                    var receivedAt = message.SentAt ?? now;
                    var line = new HistoryRow(Guid.CreateVersion7(receivedAt), user, MessageRole.User, message.Content, receivedAt, message.Wamid);
                    history.Add(line);
                    if (message.Media is { } attached)
                    {
                        media.Add(new MediaRow(line.Id, user, message.Wamid, attached, writtenAt + MediaIdLifetime, delivery.TraceParent));
                    }

                    if (isTurn)
                    {
                        turns.Add(new TurnRow(
                            message.Wamid, user, line.Id, message.PhoneNumberId!, message.FromPhone, message.FromUserId, message.Type, message.Content,
                            writtenAt, writtenAt + rules.ReplyWindow, delivery.TraceParent));
                    }

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
                        message.Wamid, userId, replyMessageId, message.PhoneNumberId!, message.FromPhone, reply,
                        writtenAt + rules.ReplyWindow, delivery.TraceParent, message.FromUserId));
                }
            }
        }

        return new DeliveryPlan(
            history,
            replies,
            turns,
            media,
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
