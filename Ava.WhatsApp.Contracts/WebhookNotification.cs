using System.Text.Json;

namespace Ava.WhatsApp.Contracts;

// Meta's webhook notification (WhatsApp Cloud API, "messages" field). Every member is optional: Meta adds fields,
// omits others (a user with a username may have no phone), and Ava must never fail on a shape it did not expect.

public sealed record WebhookNotification(string? Object, IReadOnlyList<WebhookEntry>? Entry)
{
    public const string WhatsAppBusinessAccount = "whatsapp_business_account";
}

public sealed record WebhookEntry(string? Id, IReadOnlyList<WebhookChange>? Changes);

public sealed record WebhookChange(string? Field, WebhookValue? Value);

public sealed record WebhookValue(
    string? MessagingProduct,
    WebhookMetadata? Metadata,
    IReadOnlyList<WebhookContact>? Contacts,
    IReadOnlyList<WebhookMessage>? Messages,
    IReadOnlyList<WebhookStatus>? Statuses,
    IReadOnlyList<WhatsAppError>? Errors,
    IReadOnlyList<WebhookUserIdUpdate>? UserIdUpdate = null);

public sealed record WebhookMetadata(string? DisplayPhoneNumber, string? PhoneNumberId);

/// <param name="WaId">The user's phone; absent for a user who adopted a username and has not shared it lately.</param>
/// <param name="UserId">The business-scoped user id (BSUID, e.g. <c>US.13491208655302741918</c>): present for every user.</param>
/// <param name="ParentUserId">The parent BSUID, only for businesses Meta enabled them for (e.g. <c>US.ENT.11815799212886844830</c>).</param>
public sealed record WebhookContact(WebhookProfile? Profile, string? WaId, string? UserId, string? ParentUserId = null);

/// <param name="Username">The user's username, when they adopted one.</param>
public sealed record WebhookProfile(string? Name, string? Username = null);

/// <param name="From">The sender's phone; absent when Meta withholds it (see <see cref="WebhookContact.WaId"/>).</param>
/// <param name="FromUserId">The sender's business-scoped user id.</param>
public sealed record WebhookMessage(
    string? From,
    string? FromUserId,
    string? Id,
    string? Timestamp,
    string? Type,
    WebhookText? Text,
    WebhookMedia? Image,
    WebhookMedia? Audio,
    WebhookMedia? Video,
    WebhookMedia? Document,
    WebhookMedia? Sticker,
    WebhookLocation? Location,
    IReadOnlyList<JsonElement>? Contacts,
    WebhookReaction? Reaction,
    WebhookInteractive? Interactive,
    WebhookButton? Button,
    WebhookSystem? System,
    WebhookMessageContext? Context,
    IReadOnlyList<WhatsAppError>? Errors,
    string? FromParentUserId = null);

public sealed record WebhookText(string? Body);

/// <summary>An image, audio, video, document or sticker: Meta's media id and metadata, never the bytes.</summary>
/// <param name="Id">Meta's media id, which names the media for 7 days (see <see cref="MediaDownloadUrl"/>).</param>
/// <param name="Sha256">The SHA-256 of the file's bytes (base64).</param>
/// <param name="Voice">An audio recorded as a voice note.</param>
/// <param name="Animated">A sticker that moves (Meta allows it more bytes).</param>
public sealed record WebhookMedia(
    string? Id, string? MimeType, string? Sha256, string? Caption, string? Filename, bool? Voice = null, bool? Animated = null);

public sealed record WebhookLocation(double? Latitude, double? Longitude, string? Name, string? Address);

public sealed record WebhookReaction(string? MessageId, string? Emoji);

public sealed record WebhookInteractive(string? Type, WebhookReplyOption? ButtonReply, WebhookReplyOption? ListReply);

public sealed record WebhookReplyOption(string? Id, string? Title, string? Description);

public sealed record WebhookButton(string? Payload, string? Text);

/// <summary>A system message: <c>user_changed_number</c> or <c>user_changed_user_id</c>.</summary>
/// <param name="WaId">The user's new phone (<c>user_changed_number</c>).</param>
/// <param name="UserId">The user's new business-scoped user id.</param>
public sealed record WebhookSystem(string? Body, string? Type, string? WaId = null, string? UserId = null)
{
    public const string UserChangedNumber = "user_changed_number";

    public const string UserChangedUserId = "user_changed_user_id";
}

public sealed record WebhookMessageContext(string? From, string? Id);

/// <param name="RecipientId">The recipient's phone; absent when the message went to a business-scoped user id and Meta withholds the phone.</param>
/// <param name="RecipientUserId">The recipient's business-scoped user id.</param>
public sealed record WebhookStatus(
    string? Id,
    string? Status,
    string? Timestamp,
    string? RecipientId,
    IReadOnlyList<WhatsAppError>? Errors,
    string? BizOpaqueCallbackData = null,
    string? RecipientUserId = null,
    string? RecipientParentUserId = null);

/// <summary>
/// A user's business-scoped user id was replaced (it changes with their phone number): the <c>user_id_update</c>
/// webhook field, which names the previous id and the current one.
/// </summary>
public sealed record WebhookUserIdUpdate(string? WaId, string? Detail, WebhookUserIdChange? UserId, string? Timestamp);

public sealed record WebhookUserIdChange(string? Previous, string? Current);

public sealed record WhatsAppError(int? Code, string? Title, string? Message, WhatsAppErrorData? ErrorData);

public sealed record WhatsAppErrorData(string? Details);
