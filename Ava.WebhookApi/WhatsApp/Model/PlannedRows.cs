using Ava.Data.Messages;
using Ava.Data.WhatsApp;

namespace Ava.WebhookApi.WhatsApp.Model;

// The rows a delivery plan is made of (see Processing/DeliveryPlanner): the planner produces them, the stores write them.

/// <summary>A row of <c>inbound_messages</c>: the exactly-once gate (its wamid) and the audit of who wrote what.</summary>
internal sealed record InboundMessageRow(
    string Wamid,
    long DeliveryId,
    string? PhoneNumberId,
    string? FromPhone,
    string? FromUserId,
    string Type,
    string Content,
    DateTimeOffset? SentAt,
    Guid? UserId,
    string? FromUsername = null,
    string? FromParentUserId = null);

/// <summary>A line of a linked user's history.</summary>
/// <param name="DeliveryStatus">Pending for Ava's replies (the sender moves it on); null for the user's own lines.</param>
internal sealed record HistoryRow(
    Guid Id, Guid UserId, MessageRole Role, string Content, DateTimeOffset CreatedAt, string? ExternalId, DeliveryStatus? DeliveryStatus = null);

/// <summary>A reply for the outbox.</summary>
/// <param name="InboundWamid">The message Ava answered itself; null for a reply of a turn (<paramref name="TurnId"/>).</param>
/// <param name="MessageId">Its history row, when the sender is a linked user.</param>
/// <param name="ToPhone">The sender's phone, where the reply goes when there is one.</param>
/// <param name="ExpiresAt">When the user's customer-service window closes: retries stop there.</param>
/// <param name="ToUserId">The sender's business-scoped user id, where the reply goes when there is no phone.</param>
/// <param name="TurnId">The turn whose answer it is part of, and <paramref name="TurnReplyIndex"/> its place in it.</param>
internal sealed record ReplyRow(
    string? InboundWamid,
    Guid? UserId,
    Guid? MessageId,
    string PhoneNumberId,
    string? ToPhone,
    string Body,
    DateTimeOffset ExpiresAt,
    string? TraceParent,
    string? ToUserId = null,
    long? TurnId = null,
    int? TurnReplyIndex = null);

/// <summary>A linked user's message for the responder to answer (see <see cref="Ava.Data.WhatsApp.ConversationTurn"/>).</summary>
/// <param name="MessageId">The message's line in the user's history.</param>
/// <param name="ToPhone">The user's phone, where the replies go when there is one; else <paramref name="ToUserId"/>.</param>
/// <param name="Content">The text, or the readable summary history keeps of anything else.</param>
/// <param name="ExpiresAt">When the user's customer-service window closes.</param>
internal sealed record TurnRow(
    string InboundWamid,
    long DeliveryId,
    Guid UserId,
    Guid MessageId,
    string PhoneNumberId,
    string? ToPhone,
    string? ToUserId,
    string MessageType,
    string Content,
    DateTimeOffset WrittenAt,
    DateTimeOffset ExpiresAt,
    string? TraceParent);

/// <summary>A linked user's media to download and keep (see <see cref="Ava.Data.Media.MediaFile"/>).</summary>
/// <param name="MessageId">The message's line in the user's history.</param>
/// <param name="ExpiresAt">When Meta's media id stops working: downloads are tried until then.</param>
internal sealed record MediaRow(
    Guid MessageId,
    Guid UserId,
    string InboundWamid,
    IncomingMedia Media,
    DateTimeOffset ExpiresAt,
    string? TraceParent);

/// <summary>
/// A linked phone wrote with a business-scoped user id its account does not record yet: Meta pairs the two, so the id
/// is recorded with the account, which then stays reachable when its user adopts a username and the phone goes.
/// </summary>
internal sealed record UserIdAdoption(Guid UserId, string Phone, string WhatsAppUserId, string? Username);

/// <summary>A reply Meta accepted, known from a status that names it (it may not have been recorded yet).</summary>
/// <param name="RecipientId">The phone the status names; with <paramref name="RecipientUserId"/>, who the reply must have been addressed to.</param>
internal sealed record AcceptedSend(
    ReplyReference Reply, string Wamid, string PhoneNumberId, string? RecipientId = null, string? RecipientUserId = null)
{
    public long ReplyId => Reply.ReplyId;
}
