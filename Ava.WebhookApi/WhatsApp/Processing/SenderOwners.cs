using Ava.WebhookApi.WhatsApp.Model;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>
/// Whose a sender's messages are, and how a batch moves that while it is planned: a LINK, a user id Meta pairs with a
/// linked phone, Meta replacing a user id or a number — each counts for the messages after it in the same batch.
/// </summary>
/// <remarks>
/// A sender is known by their business-scoped user id, their phone, or both; lookups answer for each (see
/// <see cref="SendersToLookUp"/>), and the user id decides when both are linked: it belongs to one WhatsApp account for
/// good, where a phone number can pass to another person.
/// </remarks>
internal static class SenderOwners
{
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

    /// <summary>Meta replaced a user id: its link moves to the new one, unless the new one is linked already.</summary>
    public static void ReplaceUserId(Dictionary<string, LinkedAccount?> owners, UserIdChange change)
    {
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

    /// <summary>A user moved to another number: the link moves with them, if it was made for them.</summary>
    public static void MovePhone(Dictionary<string, LinkedAccount?> owners, PhoneNumberChange change)
    {
        if (owners.GetValueOrDefault(change.Previous) is { } owner && IsHolder(owner, change.UserId))
        {
            // Should another account hold the new number, it keeps it (see UserPreferencesTable.MovePhonesAsync).
            owners[change.Current] = owners.GetValueOrDefault(change.Current) ?? owner;
            owners[change.Previous] = null;
        }
    }

    /// <summary>A LINK that succeeded: the sender's phone and user id are the code's user's from now on.</summary>
    public static void Link(Dictionary<string, LinkedAccount?> owners, LinkAttempt link, Guid user)
    {
        foreach (var identity in new[] { link.Phone, link.WhatsAppUserId }.OfType<string>())
        {
            owners[identity] = new LinkedAccount(user, link.WhatsAppUserId);
        }
    }

    /// <returns>
    /// The user id to record with <paramref name="owner"/>'s account, when its linked phone writes with one that is
    /// linked to nobody (see <see cref="UserIdAdoption"/>); null otherwise.
    /// </returns>
    public static UserIdAdoption? Adopt(Dictionary<string, LinkedAccount?> owners, IncomingMessage message, Guid owner)
    {
        if (message is { FromPhone: { } phone, FromUserId: { } pairedUserId }
            && owners.TryGetValue(pairedUserId, out var pairedOwner) && pairedOwner is null
            && owners.GetValueOrDefault(phone)?.UserId == owner)
        {
            owners[pairedUserId] = owners[phone] = new LinkedAccount(owner, pairedUserId);
            return new UserIdAdoption(owner, phone, pairedUserId, message.FromUsername);
        }

        return null;
    }

    /// <summary>Whether the person the account's link was made for may be the one writing with this user id.</summary>
    private static bool IsHolder(LinkedAccount account, string? senderUserId) =>
        senderUserId is null || account.WhatsAppUserId is null || account.WhatsAppUserId == senderUserId;
}
