namespace Ava.WebhookApi.WhatsApp.Model;

/// <summary>A delivery as received, on its way into the inbox (directly, or by way of the spool).</summary>
internal sealed record InboundDeliveryRecord(DateTimeOffset ReceivedAt, byte[] Body, string? TraceParent);
