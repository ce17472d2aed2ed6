namespace Ava.Responder.Contracts;

/// <summary>
/// What Ava posts to the responder for a linked user's message: one turn of the conversation, with the history
/// before it. Posted again for the same turn after a crash or a lost answer: <see cref="TurnId"/> is also the
/// <c>Idempotency-Key</c>.
/// </summary>
/// <param name="TurnId">The message's WhatsApp id (wamid).</param>
/// <param name="UserId">The Ava user the WhatsApp account is linked to.</param>
/// <param name="Channel">Where the conversation happens: <c>whatsapp</c>.</param>
/// <param name="PhoneNumberId">The business number the message arrived on (Meta's phone number id).</param>
/// <param name="ReceivedAt">When the user wrote it.</param>
/// <param name="History">The user's latest messages before this one, oldest first.</param>
public sealed record Turn(
    string TurnId,
    Guid UserId,
    string Channel,
    string PhoneNumberId,
    DateTimeOffset ReceivedAt,
    TurnMessage Message,
    IReadOnlyList<HistoryEntry> History);

/// <param name="Type">Meta's message type: text, image, audio, video, document, sticker, location, reaction, …</param>
/// <param name="Text">The text, for a text message.</param>
/// <param name="Summary">A readable summary of any message (for text, the text itself), as Ava's history shows it.</param>
/// <param name="Media">The photo, voice note, video, document or sticker the message carries, as Ava keeps it.</param>
public sealed record TurnMessage(string Type, string? Text, string Summary, TurnMedia? Media = null);

/// <summary>
/// A message's media as its owner's history shows it (the messages API's <c>media</c>, field for field). The bytes
/// are downloaded beside the turn: <see cref="Status"/> may still be <c>pending</c> when the turn is asked.
/// </summary>
/// <param name="Id">The message's id in the user's history, by which its owner reads the bytes (<c>GET /messages/{id}/media</c>).</param>
/// <param name="Type">image, audio, video, document or sticker.</param>
/// <param name="Size">Bytes kept; for media too large to keep, the size Meta declared; null while not known.</param>
/// <param name="FileName">A document's file name, as the sender's phone named it.</param>
/// <param name="Sha256">The SHA-256 of the bytes in lowercase hex.</param>
/// <param name="Status"><c>pending</c>, <c>stored</c>, <c>failed</c> or <c>too_large</c>.</param>
public sealed record TurnMedia(
    Guid Id, string Type, string? MimeType, long? Size, string? FileName, string? Caption, string? Sha256, string Status);

/// <param name="Role"><see cref="HistoryRoles.User"/> or <see cref="HistoryRoles.Assistant"/>.</param>
public sealed record HistoryEntry(string Role, string Content, DateTimeOffset CreatedAt);

/// <summary>Who said a line of history.</summary>
public static class HistoryRoles
{
    public const string User = "user";

    public const string Assistant = "assistant";
}

/// <summary>The responder's answer: zero, one or several replies, sent in order.</summary>
public sealed record TurnAnswer(IReadOnlyList<TurnReply>? Replies);

/// <param name="Type">Only <see cref="TextType"/> is sent today; replies of other types are left out and logged.</param>
public sealed record TurnReply(string Type, string? Text)
{
    public const string TextType = "text";
}
