namespace Ava.Data.WhatsApp;

/// <summary>
/// A status Meta reported for a message Ava sent. Kept per (wamid, status) rather than folded into the reply, as
/// statuses arrive in any order, even before Ava has recorded the wamid of its send.
/// </summary>
public sealed class DeliveryStatusEvent
{
    public required string Wamid { get; set; }

    public DeliveryStatus Status { get; set; }

    public DateTimeOffset? OccurredAt { get; set; }

    /// <summary>The recipient's phone, when Meta names it.</summary>
    public string? RecipientId { get; set; }

    /// <summary>The recipient's business-scoped user id, when Meta names it.</summary>
    public string? RecipientUserId { get; set; }

    public int? ErrorCode { get; set; }

    public string? ErrorTitle { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }
}
