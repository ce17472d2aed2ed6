using System.Text.Json.Serialization;
using Ava.Data.Messages;
using Ava.Data.WhatsApp;
using Ava.MessagesApi.Media;

namespace Ava.MessagesApi.Messages;

/// <summary>One message of the caller's history, named as the plan's MessageResponse (snake_case).</summary>
/// <param name="DeliveryStatus">For Ava's WhatsApp replies: how far the reply got (pending … read, or failed).</param>
/// <param name="Media">The media the message carries; null for a message of text only.</param>
public sealed record MessageResponse(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("user_id")] Guid UserId,
    [property: JsonPropertyName("avatar_id")] Guid? AvatarId,
    [property: JsonPropertyName("channel")] MessageChannel Channel,
    [property: JsonPropertyName("role")] MessageRole Role,
    [property: JsonPropertyName("content")] string Content,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("delivery_status")] DeliveryStatus? DeliveryStatus,
    [property: JsonPropertyName("media")] MediaResponse? Media);
