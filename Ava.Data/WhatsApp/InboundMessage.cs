namespace Ava.Data.WhatsApp;

/// <summary>
/// One WhatsApp message Meta delivered, keyed by its wamid: the gate that makes processing exactly-once, and the
/// record of messages from senders who have no Ava account.
/// </summary>
public sealed class InboundMessage
{
    public required string Wamid { get; set; }

    public long DeliveryId { get; set; }

    /// <summary>Ava's business number the message was sent to; replies go out from it.</summary>
    public string? PhoneNumberId { get; set; }

    /// <summary>The sender's phone, digits only; null when Meta withholds it.</summary>
    public string? FromPhone { get; set; }

    /// <summary>The sender's business-scoped user id (BSUID), when Meta sends one.</summary>
    public string? FromUserId { get; set; }

    /// <summary>The sender's parent business-scoped user id, for businesses Meta enabled them for.</summary>
    public string? FromParentUserId { get; set; }

    /// <summary>The sender's username, when they adopted one.</summary>
    public string? FromUsername { get; set; }

    public required string Type { get; set; }

    /// <summary>The text, or a readable summary of non-text content.</summary>
    public required string Content { get; set; }

    public DateTimeOffset? SentAt { get; set; }

    /// <summary>The Ava user the sender (by user id, else phone) was linked to when the message was processed.</summary>
    public Guid? UserId { get; set; }

    public DateTimeOffset ProcessedAt { get; set; }
}
