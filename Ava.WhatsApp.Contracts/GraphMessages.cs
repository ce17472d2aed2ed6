using System.Text.Json.Serialization;

namespace Ava.WhatsApp.Contracts;

// The Graph API's send-message call: POST {base}/{version}/{phone_number_id}/messages.

/// <param name="To">The recipient's phone.</param>
/// <param name="Recipient">
/// The recipient's business-scoped user id (or parent id), for a user whose phone Ava does not know. Meta takes
/// <see cref="To"/> when both are given.
/// </param>
public sealed record SendTextMessageRequest(
    string MessagingProduct,
    string RecipientType,
    string? To,
    string Type,
    SendText Text,
    string? BizOpaqueCallbackData = null,
    string? Recipient = null)
{
    public const int MaxBodyLength = 4096;

    /// <summary>
    /// To the phone when there is one — Meta advises it, so that its webhooks keep naming the phone — otherwise to the
    /// business-scoped user id.
    /// </summary>
    public static SendTextMessageRequest CreateTo(string? phone, string? userId, string body, string? callbackData = null) =>
        phone is not null || userId is not null
            ? new("whatsapp", "individual", phone, "text", new SendText(body), callbackData, phone is null ? userId : null)
            : throw new ArgumentException("A message needs a phone or a business-scoped user id to go to.", nameof(userId));

    /// <summary>Whom the message is addressed to: the phone, else the business-scoped user id.</summary>
    [JsonIgnore]
    public string? Addressee => To ?? Recipient;
}

public sealed record SendText(string Body);

public sealed record SendMessageResponse(
    string? MessagingProduct,
    IReadOnlyList<SendMessageContact>? Contacts,
    IReadOnlyList<SentMessage>? Messages);

/// <param name="WaId">Answered for a send to a phone.</param>
/// <param name="UserId">Answered for a send to a business-scoped user id.</param>
public sealed record SendMessageContact(string? Input, string? WaId, string? UserId = null);

public sealed record SentMessage(string? Id);

/// <summary>
/// Marks a received message read (blue ticks, and every earlier message of the chat with it) and shows the typing
/// indicator until the reply arrives or 25 seconds pass: POST {base}/{version}/{phone_number_id}/messages, the same
/// call as a send, answered <see cref="GraphSuccessResponse"/>.
/// </summary>
public sealed record MarkReadRequest(string MessagingProduct, string Status, string MessageId, TypingIndicator? TypingIndicator)
{
    public const string ReadStatus = "read";

    public static MarkReadRequest WithTypingIndicator(string wamid) => new("whatsapp", ReadStatus, wamid, new TypingIndicator("text"));
}

public sealed record TypingIndicator(string Type);

/// <summary>Meta's answer to calls that create nothing, such as <see cref="MarkReadRequest"/>.</summary>
public sealed record GraphSuccessResponse(bool Success);

/// <summary>
/// A business phone number as GET {base}/{version}/{phone_number_id} describes it: the cheapest call that proves
/// the access token is valid and may use that number.
/// </summary>
public sealed record BusinessPhoneNumber(string? Id, string? DisplayPhoneNumber, string? VerifiedName);

/// <summary>
/// What GET {base}/{version}/{media-id} answers: where the media's bytes can be fetched, with the access token, for the
/// next 5 minutes.
/// </summary>
/// <param name="Sha256">The SHA-256 of the bytes (hex).</param>
public sealed record MediaDownloadUrl(string? MessagingProduct, string? Url, string? MimeType, string? Sha256, long? FileSize, string? Id);

/// <summary>The body of a Graph API error answer.</summary>
public sealed record GraphErrorResponse(GraphError? Error);

public sealed record GraphError(
    string? Message,
    string? Type,
    int? Code,
    int? ErrorSubcode,
    WhatsAppErrorData? ErrorData,
    string? FbtraceId);
