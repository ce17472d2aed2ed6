using System.Text.Json.Serialization;

namespace Ava.WhatsApp.Contracts;

/// <summary>Source-generated JSON for every payload Ava exchanges with Meta (snake_case, nulls left out).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(WebhookNotification))]
[JsonSerializable(typeof(SendTextMessageRequest))]
[JsonSerializable(typeof(SendMessageResponse))]
[JsonSerializable(typeof(GraphErrorResponse))]
[JsonSerializable(typeof(MarkReadRequest))]
[JsonSerializable(typeof(GraphSuccessResponse))]
[JsonSerializable(typeof(BusinessPhoneNumber))]
[JsonSerializable(typeof(MediaDownloadUrl))]
public sealed partial class WhatsAppJsonContext : JsonSerializerContext;
