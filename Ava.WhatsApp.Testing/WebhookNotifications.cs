using System.Globalization;
using System.Text.Json;
using Ava.WhatsApp.Contracts;

namespace Ava.WhatsApp.Testing;

/// <summary>Builds notifications the way Meta shapes them, for whatever plays Meta (simulator, tests, benchmark).</summary>
public static class WebhookNotifications
{
    public const string SimulatedWabaId = "SIMULATED-WABA";

    public static WebhookMessage Message(string? from, string type, string wamid, DateTimeOffset sentAt) => new(
        From: from,
        FromUserId: null,
        Id: wamid,
        Timestamp: sentAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
        Type: type,
        Text: null, Image: null, Audio: null, Video: null, Document: null, Sticker: null, Location: null, Contacts: null,
        Reaction: null, Interactive: null, Button: null, System: null, Context: null, Errors: null);

    /// <param name="from">The sender's phone; null plays a user who adopted a username and whose phone Meta withholds.</param>
    /// <param name="fromUserId">The sender's business-scoped user id, which Meta sends with every message.</param>
    public static WebhookMessage Text(string? from, string text, string wamid, DateTimeOffset sentAt, string? fromUserId = null) =>
        Message(from, "text", wamid, sentAt) with { Text = new WebhookText(text), FromUserId = fromUserId };

    /// <summary>The message types that carry a media object, each under the property of its own name.</summary>
    public static readonly IReadOnlySet<string> MediaTypes = new HashSet<string>(StringComparer.Ordinal) { "image", "audio", "video", "document", "sticker" };

    /// <summary>An image, audio, video, document or sticker message: the media object goes under the property named by the type.</summary>
    /// <param name="type">One of <see cref="MediaTypes"/>.</param>
    public static WebhookMessage Media(string? from, string type, WebhookMedia media, string wamid, DateTimeOffset sentAt, string? fromUserId = null)
    {
        var message = Message(from, type, wamid, sentAt) with { FromUserId = fromUserId };
        return type switch
        {
            "image" => message with { Image = media },
            "audio" => message with { Audio = media },
            "video" => message with { Video = media },
            "document" => message with { Document = media },
            "sticker" => message with { Sticker = media },
            _ => throw new ArgumentException($"'{type}' is not a media message type.", nameof(type)),
        };
    }

    /// <summary>A "messages" change to Ava's number carrying these messages, with a contact for each sender.</summary>
    public static WebhookChange Messages(string phoneNumberId, params WebhookMessage[] messages) => new("messages", new WebhookValue(
        "whatsapp",
        new WebhookMetadata("15550000000", phoneNumberId),
        [
            .. messages
                .Where(m => m.From is not null || m.FromUserId is not null)
                .DistinctBy(m => (m.From, m.FromUserId))
                .Select(m => new WebhookContact(new WebhookProfile("WhatsApp user"), m.From, m.FromUserId)),
        ],
        messages,
        Statuses: null,
        Errors: null));

    /// <summary>The change with this sender's username on their contact, as Meta shows a user who adopted one.</summary>
    public static WebhookChange WithUsername(this WebhookChange change, string userId, string username) => change with
    {
        Value = change.Value! with
        {
            Contacts = [.. (change.Value.Contacts ?? []).Select(c => c.UserId == userId ? c with { Profile = (c.Profile ?? new(null)) with { Username = username } } : c)],
        },
    };

    /// <summary>The <c>user_id_update</c> notification: a user's business-scoped user id was replaced.</summary>
    /// <param name="phone">The user's phone, when Meta shares it.</param>
    public static WebhookChange UserIdUpdate(string phoneNumberId, string previous, string current, DateTimeOffset at, string? phone = null) =>
        new("user_id_update", new WebhookValue(
            "whatsapp",
            new WebhookMetadata("15550000000", phoneNumberId),
            phone is null ? null : [new WebhookContact(new WebhookProfile("WhatsApp user"), phone, null)],
            Messages: null,
            Statuses: null,
            Errors: null,
            UserIdUpdate:
            [
                new WebhookUserIdUpdate(
                    phone,
                    "User id for WhatsApp user has been updated.",
                    new WebhookUserIdChange(previous, current),
                    at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
            ]));

    public static WebhookChange Statuses(string phoneNumberId, params WebhookStatus[] statuses) => new("messages", new WebhookValue(
        "whatsapp", new WebhookMetadata("15550000000", phoneNumberId), null, null, statuses, null));

    public static byte[] Serialize(params WebhookEntry[] entries) => JsonSerializer.SerializeToUtf8Bytes(
        new WebhookNotification(WebhookNotification.WhatsAppBusinessAccount, entries),
        WhatsAppJsonContext.Default.WebhookNotification);

    public static byte[] Serialize(params WebhookChange[] changes) => Serialize(new WebhookEntry(SimulatedWabaId, changes));
}
