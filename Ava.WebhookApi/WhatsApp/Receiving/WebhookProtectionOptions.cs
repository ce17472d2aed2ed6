namespace Ava.WebhookApi.WhatsApp.Receiving;

/// <summary>
/// How much of the webhook strangers can occupy before their signature is checked: a delivery is buffered whole
/// (up to <see cref="WhatsAppProcessingOptions.MaxDeliveryBytes"/>) before it can be verified. Under <c>WhatsApp:</c>.
/// </summary>
public sealed class WebhookProtectionOptions
{
    public const string SectionName = WhatsAppProcessingOptions.SectionName;

    /// <summary>
    /// Deliveries handled at once by one instance, body buffering included; each may hold up to 3 MB until its
    /// signature is checked, so this bounds that memory (128 × 3 MB in the worst case). An acknowledgement takes a
    /// few milliseconds, so 128 at once is far more than Meta's rate needs.
    /// </summary>
    public int MaxConcurrentDeliveries { get; set; } = 128;

    /// <summary>
    /// Deliveries that wait for a turn, oldest first, before further ones are refused with 503 and Retry-After (Meta
    /// retries them). A waiting request has not had its body read: it costs a connection and Kestrel's small buffer.
    /// Together with <see cref="MaxConcurrentDeliveries"/>, over a thousand simultaneous deliveries are taken.
    /// </summary>
    public int MaxQueuedDeliveries { get; set; } = 1024;

    /// <summary>
    /// Below this average rate, once the 5-second grace period is over, a body being received is cut off with 408.
    /// Meta gives up on a delivery after a few seconds, so only a body far larger than Meta's (they are a few KB)
    /// ever meets the limit, and nothing Meta still waits for is cut; a trickling stranger holds a slot for at
    /// most 3 MB at this rate (about 3 minutes) instead of hours at Kestrel's default of 240 bytes/s.
    /// </summary>
    public double MinDeliveryBytesPerSecond { get; set; } = 16 * 1024;
}
