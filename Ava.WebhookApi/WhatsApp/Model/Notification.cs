using Ava.Data.WhatsApp;

namespace Ava.WebhookApi.WhatsApp.Model;

// What a webhook notification says, as Ava reads it (see Processing/NotificationReader): plain records, shared by the
// planner that decides on them and the stores that write them.

/// <summary>One inbound message of a delivery, as Ava handles it. Every string is storable (Postgres takes it as it is: see Processing/StorableText).</summary>
/// <param name="FromPhone">The sender's phone; null when Meta withholds it (a user who adopted a username).</param>
/// <param name="FromUserId">The sender's business-scoped user id, in the form Meta documents (see <see cref="Ava.Data.Users.WhatsAppUserIds"/>).</param>
/// <param name="Text">What the sender wrote: a text message's text, or a media message's caption; null otherwise.</param>
/// <param name="Media">A photo, voice note, video, document or sticker the message carries.</param>
internal sealed record IncomingMessage(
    string Wamid,
    string? PhoneNumberId,
    string? FromPhone,
    string? FromUserId,
    string Type,
    string Content,
    string? Text,
    DateTimeOffset? SentAt,
    string? FromUsername = null,
    string? FromParentUserId = null,
    IncomingMedia? Media = null)
{
    /// <summary>Who wrote it, as the registration throttle and the link-code counter tell senders apart.</summary>
    public string? Sender => FromPhone ?? FromUserId;
}

/// <summary>The media of a message, as Meta describes it (the bytes are fetched later, by its id).</summary>
/// <param name="Type">image, audio, video, document or sticker.</param>
/// <param name="MetaMediaId">Meta's id of the media, which names it for 7 days.</param>
/// <param name="Sha256">The SHA-256 of the bytes, as Meta gave it.</param>
internal sealed record IncomingMedia(
    string Type, string MetaMediaId, string? MimeType, string? Sha256, string? Caption, string? FileName, bool Voice);

/// <summary>One status of a message Ava sent.</summary>
/// <param name="Reply">The reply the send carried in its callback data, when Ava sent it (see <see cref="ReplyReference"/>).</param>
/// <param name="PhoneNumberId">The business number the status is about.</param>
internal sealed record IncomingStatus(
    string Wamid,
    DeliveryStatus Status,
    DateTimeOffset? OccurredAt,
    string? RecipientId,
    int? ErrorCode,
    string? ErrorTitle,
    ReplyReference? Reply = null,
    string? PhoneNumberId = null,
    string? RecipientUserId = null);

/// <summary>A WhatsApp user's business-scoped user id was replaced by another (it changes with their phone number).</summary>
internal sealed record UserIdChange(string Previous, string Current);

/// <summary>A WhatsApp user moved their account to another phone number (Meta's <c>user_changed_number</c>).</summary>
/// <param name="UserId">The user's business-scoped user id when they wrote it, if Meta named it: who moved.</param>
internal sealed record PhoneNumberChange(string Previous, string Current, string? UserId);

/// <param name="UserIdChanges">In the order Meta sent them.</param>
/// <param name="PhoneChanges">In the order Meta sent them.</param>
internal sealed record NotificationContents(
    IReadOnlyList<IncomingMessage> Messages,
    IReadOnlyList<IncomingStatus> Statuses,
    int Skipped,
    IReadOnlyList<UserIdChange>? UserIdChanges = null,
    IReadOnlyList<PhoneNumberChange>? PhoneChanges = null);
