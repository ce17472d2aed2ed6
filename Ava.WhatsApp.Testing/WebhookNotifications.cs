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

    public static WebhookMessage Text(string from, string text, string wamid, DateTimeOffset sentAt) =>
        Message(from, "text", wamid, sentAt) with { Text = new WebhookText(text) };

    /// <summary>A "messages" change to Ava's number carrying these messages, with a contact for each sender.</summary>
    public static WebhookChange Messages(string phoneNumberId, params WebhookMessage[] messages) => new("messages", new WebhookValue(
        "whatsapp",
        new WebhookMetadata("15550000000", phoneNumberId),
        [.. messages.Where(m => m.From is not null).DistinctBy(m => m.From).Select(m => new WebhookContact(new WebhookProfile("WhatsApp user"), m.From, null))],
        messages,
        Statuses: null,
        Errors: null));

    public static WebhookChange Statuses(string phoneNumberId, params WebhookStatus[] statuses) => new("messages", new WebhookValue(
        "whatsapp", new WebhookMetadata("15550000000", phoneNumberId), null, null, statuses, null));

    public static byte[] Serialize(params WebhookEntry[] entries) => JsonSerializer.SerializeToUtf8Bytes(
        new WebhookNotification(WebhookNotification.WhatsAppBusinessAccount, entries),
        WhatsAppJsonContext.Default.WebhookNotification);

    public static byte[] Serialize(params WebhookChange[] changes) => Serialize(new WebhookEntry(SimulatedWabaId, changes));
}
