namespace Ava.WhatsApp.Contracts;

// The Graph API's send-message call: POST {base}/{version}/{phone_number_id}/messages.

public sealed record SendTextMessageRequest(
    string MessagingProduct,
    string RecipientType,
    string To,
    string Type,
    SendText Text,
    string? BizOpaqueCallbackData = null)
{
    public const int MaxBodyLength = 4096;

    /// <summary>Meta's limit for <see cref="BizOpaqueCallbackData"/>, which it repeats in the message's statuses.</summary>
    public const int MaxCallbackDataLength = 512;

    public static SendTextMessageRequest Create(string recipient, string body, string? callbackData = null) =>
        new("whatsapp", "individual", recipient, "text", new SendText(body), callbackData);
}

public sealed record SendText(string Body);

public sealed record SendMessageResponse(
    string? MessagingProduct,
    IReadOnlyList<SendMessageContact>? Contacts,
    IReadOnlyList<SentMessage>? Messages);

public sealed record SendMessageContact(string? Input, string? WaId);

public sealed record SentMessage(string? Id);

/// <summary>The body of a Graph API error answer.</summary>
public sealed record GraphErrorResponse(GraphError? Error);

public sealed record GraphError(
    string? Message,
    string? Type,
    int? Code,
    int? ErrorSubcode,
    WhatsAppErrorData? ErrorData,
    string? FbtraceId);
