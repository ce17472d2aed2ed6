using Ava.Data.WhatsApp;

namespace Ava.Data.Messages;

/// <summary>One line of a user's conversation history, on any channel.</summary>
public sealed class Message
{
    public Guid Id { get; set; }

    public Guid UserId { get; set; }

    public Guid? AvatarId { get; set; }

    public MessageChannel Channel { get; set; }

    public MessageRole Role { get; set; }

    public required string Content { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The channel's own id of the message: Meta's wamid on WhatsApp.</summary>
    public string? ExternalId { get; set; }

    /// <summary>
    /// For Ava's WhatsApp replies: how far the reply got (the furthest of the sender's outcome and Meta's statuses),
    /// kept here by the webhook so that reading history needs no join.
    /// </summary>
    public DeliveryStatus? DeliveryStatus { get; set; }
}
