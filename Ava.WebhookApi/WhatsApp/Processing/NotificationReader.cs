using System.Globalization;
using System.Text.Json;
using Ava.Data.Users;
using Ava.Data.WhatsApp;
using Ava.WhatsApp.Contracts;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>One inbound message of a delivery, as Ava handles it.</summary>
/// <param name="Text">The text of a text message; null for every other type.</param>
internal sealed record IncomingMessage(
    string Wamid,
    string? PhoneNumberId,
    string? FromPhone,
    string? FromUserId,
    string Type,
    string Content,
    string? Text,
    DateTimeOffset? SentAt);

/// <summary>One status of a message Ava sent.</summary>
internal sealed record IncomingStatus(
    string Wamid,
    DeliveryStatus Status,
    DateTimeOffset? OccurredAt,
    string? RecipientId,
    int? ErrorCode,
    string? ErrorTitle);

internal sealed record NotificationContents(IReadOnlyList<IncomingMessage> Messages, IReadOnlyList<IncomingStatus> Statuses, int Skipped);

/// <summary>
/// Reads every entry, change, message and status of a delivery. Parts Ava cannot use (no wamid, an unknown status)
/// are counted and skipped, never fatal; only a body that is not a WhatsApp notification at all is unprocessable.
/// </summary>
internal static class NotificationReader
{
    /// <returns>The contents, or null when the body is not a WhatsApp Business Account notification.</returns>
    public static NotificationContents? Read(ReadOnlySpan<byte> body)
    {
        WebhookNotification? notification;
        try
        {
            notification = JsonSerializer.Deserialize(body, WhatsAppJsonContext.Default.WebhookNotification);
        }
        catch (JsonException)
        {
            return null;
        }

        if (notification is not { Object: WebhookNotification.WhatsAppBusinessAccount, Entry: not null })
        {
            return null;
        }

        var messages = new List<IncomingMessage>();
        var statuses = new List<IncomingStatus>();
        var skipped = 0;

        foreach (var change in notification.Entry.SelectMany(entry => entry?.Changes ?? []))
        {
            if (change?.Value is not { } value)
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
                messages.Add(new IncomingMessage(
                    wamid,
                    value.Metadata?.PhoneNumberId,
                    fromPhone is { Length: > 0 } ? fromPhone : null,
                    message.FromUserId ?? value.Contacts?.FirstOrDefault(c => c?.WaId == message.From)?.UserId,
                    type,
                    MessageSummary.Describe(message),
                    type == "text" ? message.Text?.Body ?? "" : null,
                    ParseTimestamp(message.Timestamp)));
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
                    wamid, deliveryStatus, ParseTimestamp(status.Timestamp), status.RecipientId, error?.Code, error?.Title ?? error?.Message));
            }
        }

        return new NotificationContents(messages, statuses, skipped);
    }

    private static DeliveryStatus? ParseStatus(string? status) => status switch
    {
        "sent" => DeliveryStatus.Sent,
        "delivered" => DeliveryStatus.Delivered,
        "read" => DeliveryStatus.Read,
        "failed" => DeliveryStatus.Failed,
        _ => null,
    };

    private static DateTimeOffset? ParseTimestamp(string? unixSeconds) =>
        long.TryParse(unixSeconds, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
}
