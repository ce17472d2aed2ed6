namespace Ava.WhatsApp.Contracts;

// The Graph API's send-message call: POST {base}/{version}/{phone_number_id}/messages.

public sealed record SendTextMessageRequest(
    string MessagingProduct,
    string RecipientType,
    string To,
    string Type,
    SendText Text)
{
    public const int MaxBodyLength = 4096;

    public static SendTextMessageRequest Create(string recipient, string body) =>
        new("whatsapp", "individual", recipient, "text", new SendText(body));
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
