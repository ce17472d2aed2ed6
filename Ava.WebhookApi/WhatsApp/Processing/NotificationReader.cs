using System.Globalization;
using System.Text.Json;
using Ava.Data.Users;
using Ava.Data.WhatsApp;
using Ava.Linking;
using Ava.WebhookApi.WhatsApp.Model;
using Ava.WhatsApp.Contracts;
using static Ava.WebhookApi.WhatsApp.Processing.TolerantJson;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>
/// Reads every entry, change, message and status of a delivery, and the replacements of users' business-scoped user
/// ids (the <c>user_id_update</c> field, and system messages that name the old id and the new). Parts Ava cannot use
/// (no wamid, an unknown status, a message whose shape does not parse) are counted and skipped, never fatal to the
/// others; only a body that is not a WhatsApp notification at all is unprocessable. A user id not of the form Meta
/// documents is read as absent.
/// </summary>
internal static class NotificationReader
{
    /// <returns>The contents, or null when the body is not a WhatsApp Business Account notification.</returns>
    /// <remarks>
    /// Read part by part — each contact, message, status and user id update on its own — so that one part of a shape
    /// Ava did not expect costs only itself.
    /// </remarks>
    public static NotificationContents? Read(byte[] body) => ReadParts(StorableText.NeutraliseJsonEscapes(body));

    private static NotificationContents? ReadParts(byte[] json)
    {
        if (ParseDocument(json) is not { } document)
        {
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("object", out var kind) || kind.ValueKind != JsonValueKind.String
                || kind.GetString() != WebhookNotification.WhatsAppBusinessAccount
                || !root.TryGetProperty("entry", out var entries) || entries.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var skipped = 0;
            var values = new List<WebhookValue?>();
            foreach (var value in Elements(entries).SelectMany(entry => Elements(Property(entry, "changes"))).Select(change => Property(change, "value")))
            {
                if (value is not { ValueKind: JsonValueKind.Object } element)
                {
                    continue;
                }

                values.Add(new WebhookValue(
                    MessagingProduct: null,
                    Metadata: Parse(Property(element, "metadata"), WhatsAppJsonContext.Default.WebhookMetadata, ref skipped),
                    Contacts: [.. Elements(Property(element, "contacts")).Select(c => Parse(c, WhatsAppJsonContext.Default.WebhookContact, ref skipped)).OfType<WebhookContact>()],
                    Messages: [.. Elements(Property(element, "messages")).Select(m => Parse(m, WhatsAppJsonContext.Default.WebhookMessage, ref skipped)).OfType<WebhookMessage>()],
                    Statuses: [.. Elements(Property(element, "statuses")).Select(s => Parse(s, WhatsAppJsonContext.Default.WebhookStatus, ref skipped)).OfType<WebhookStatus>()],
                    Errors: null,
                    UserIdUpdate: [.. Elements(Property(element, "user_id_update")).Select(u => Parse(u, WhatsAppJsonContext.Default.WebhookUserIdUpdate, ref skipped)).OfType<WebhookUserIdUpdate>()]));
            }

            return Collect(values, skipped);
        }
    }

    private static NotificationContents Collect(IEnumerable<WebhookValue?> values, int skipped)
    {
        var messages = new List<IncomingMessage>();
        var statuses = new List<IncomingStatus>();
        var userIdChanges = new List<UserIdChange>();
        var phoneChanges = new List<PhoneNumberChange>();

        foreach (var value in values)
        {
            if (value is null)
            {
                continue;
            }

            foreach (var message in value.Messages ?? [])
            {
                if (message?.Id is not { Length: > 0 } wamid)
                {
                    skipped++;
                    continue;
                }

                var type = message.Type ?? "unknown";
                var fromPhone = message.From is { Length: > 0 } from ? PhoneNumbers.Normalize(from) : null;
                var contact = ContactOf(message, value.Contacts);
                var fromUserId = UserId(message.FromUserId) ?? UserId(contact?.UserId);
                var media = MediaOf(type, message);
                var text = type == "text" ? StorableText.Clean(message.Text?.Body ?? "") : media?.Caption;
                messages.Add(new IncomingMessage(
                    StorableText.Clean(wamid),
                    Storable(value.Metadata?.PhoneNumberId),
                    fromPhone is { Length: > 0 } ? fromPhone : null,
                    fromUserId,
                    StorableText.Clean(type),
                    // A caption is what the sender said: history shows it as the message's text.
                    media?.Caption ?? StorableText.Clean(MessageSummary.Describe(message)),
                    text,
                    ParseTimestamp(message.Timestamp),
                    Storable(contact?.Profile?.Username),
                    UserId(message.FromParentUserId) ?? UserId(contact?.ParentUserId),
                    media));

                // A system message of a new number or user id names the new id; the old one is its sender's.
                if (message.System is { Type: WebhookSystem.UserChangedUserId or WebhookSystem.UserChangedNumber } system
                    && fromUserId is not null
                    && UserId(system.UserId) is { } current
                    && current != fromUserId)
                {
                    userIdChanges.Add(new UserIdChange(fromUserId, current));
                }

                // Sent from the old number, naming the new one.
                if (message.System is { Type: WebhookSystem.UserChangedNumber, WaId: { Length: > 0 } newPhone }
                    && fromPhone is { Length: > 0 } oldPhone
                    && PhoneNumbers.Normalize(newPhone) is { Length: > 0 } normalized
                    && normalized != oldPhone)
                {
                    phoneChanges.Add(new PhoneNumberChange(oldPhone, normalized, fromUserId));
                }
            }

            foreach (var update in value.UserIdUpdate ?? [])
            {
                if (UserId(update?.UserId?.Previous) is { } previous && UserId(update?.UserId?.Current) is { } current && previous != current)
                {
                    userIdChanges.Add(new UserIdChange(previous, current));
                }
            }

            foreach (var status in value.Statuses ?? [])
            {
                if (status?.Id is not { Length: > 0 } wamid || ParseStatus(status.Status) is not { } deliveryStatus)
                {
                    skipped++;
                    continue;
                }

                var error = status.Errors?.FirstOrDefault();
                statuses.Add(new IncomingStatus(
                    StorableText.Clean(wamid),
                    deliveryStatus,
                    ParseTimestamp(status.Timestamp),
                    Storable(status.RecipientId),
                    error?.Code,
                    Storable(error?.Title ?? error?.Message),
                    ReplyReference.Parse(status.BizOpaqueCallbackData),
                    Storable(value.Metadata?.PhoneNumberId),
                    UserId(status.RecipientUserId)));
            }
        }

        return new NotificationContents(messages, statuses, skipped, userIdChanges, phoneChanges);
    }

    /// <summary>The media a message of a media type carries, when it names Meta's media id (without it there is nothing to fetch).</summary>
    private static IncomingMedia? MediaOf(string type, WebhookMessage message)
    {
        var media = type switch
        {
            "image" => message.Image,
            "audio" => message.Audio,
            "video" => message.Video,
            "document" => message.Document,
            "sticker" => message.Sticker,
            _ => null,
        };
        return media is { Id: { Length: > 0 } id }
            ? new IncomingMedia(
                type, StorableText.Clean(id), Storable(media.MimeType), Storable(media.Sha256),
                string.IsNullOrWhiteSpace(media.Caption) ? null : StorableText.Clean(media.Caption),
                Storable(media.Filename), media.Voice == true)
            : null;
    }

    /// <summary>The contact Meta sent for a message's sender: the one of its phone, else of its user id, else the only one.</summary>
    private static WebhookContact? ContactOf(WebhookMessage message, IReadOnlyList<WebhookContact?>? contacts)
    {
        if (contacts is not { Count: > 0 })
        {
            return null;
        }

        return message.From is { Length: > 0 } from ? contacts.FirstOrDefault(c => c?.WaId == from)
            : message.FromUserId is { Length: > 0 } userId ? contacts.FirstOrDefault(c => c?.UserId == userId)
            : contacts.Count == 1 ? contacts[0]
            : null;
    }

    private static string? UserId(string? userId) => WhatsAppUserIds.IsValid(userId) ? userId : null;

    private static string? Storable(string? text) => text is null ? null : StorableText.Clean(text);

    private static DeliveryStatus? ParseStatus(string? status) => status switch
    {
        "sent" => DeliveryStatus.Sent,
        "delivered" => DeliveryStatus.Delivered,
        "read" => DeliveryStatus.Read,
        "failed" => DeliveryStatus.Failed,
        _ => null,
    };

    private static DateTimeOffset? ParseTimestamp(string? unixSeconds) =>
        long.TryParse(unixSeconds, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds < 253_402_300_800
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
}
