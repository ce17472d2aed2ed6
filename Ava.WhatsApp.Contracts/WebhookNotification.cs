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
    IReadOnlyList<WhatsAppError>? Errors);

public sealed record WebhookMetadata(string? DisplayPhoneNumber, string? PhoneNumberId);

public sealed record WebhookContact(WebhookProfile? Profile, string? WaId, string? UserId);

public sealed record WebhookProfile(string? Name);

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
    IReadOnlyList<WhatsAppError>? Errors);

public sealed record WebhookText(string? Body);

public sealed record WebhookMedia(string? Id, string? MimeType, string? Sha256, string? Caption, string? Filename);

public sealed record WebhookLocation(double? Latitude, double? Longitude, string? Name, string? Address);

public sealed record WebhookReaction(string? MessageId, string? Emoji);

public sealed record WebhookInteractive(string? Type, WebhookReplyOption? ButtonReply, WebhookReplyOption? ListReply);

public sealed record WebhookReplyOption(string? Id, string? Title, string? Description);

public sealed record WebhookButton(string? Payload, string? Text);

public sealed record WebhookSystem(string? Body, string? Type);

public sealed record WebhookMessageContext(string? From, string? Id);

public sealed record WebhookStatus(
    string? Id,
    string? Status,
    string? Timestamp,
    string? RecipientId,
    IReadOnlyList<WhatsAppError>? Errors,
    string? BizOpaqueCallbackData = null);

public sealed record WhatsAppError(int? Code, string? Title, string? Message, WhatsAppErrorData? ErrorData);

public sealed record WhatsAppErrorData(string? Details);
