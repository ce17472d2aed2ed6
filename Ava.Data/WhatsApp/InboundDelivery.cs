namespace Ava.Data.WhatsApp;

/// <summary>
/// One POST of Meta's webhook, stored as received (raw bytes, so that its signature stays checkable) before Ava
/// answers it. The processor claims pending deliveries and records what became of them.
/// </summary>
public sealed class InboundDelivery
{
    public long Id { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }

    public required byte[] Body { get; set; }

    /// <summary>W3C traceparent of the receiving request, so that processing joins the webhook's trace.</summary>
    public string? TraceParent { get; set; }

    public InboundOutcome? Outcome { get; set; }

    public DateTimeOffset? ProcessedAt { get; set; }

    public int Attempts { get; set; }

    /// <summary>A processor holds the delivery until then (renewed while it works); after it, another may claim it.</summary>
    public DateTimeOffset? LockedUntil { get; set; }

    /// <summary>
    /// The claim that holds the delivery: new for every claim, so that a processor whose lease was taken over can
    /// no longer complete the delivery (every completing write matches it).
    /// </summary>
    public Guid? ClaimToken { get; set; }

    public string? Error { get; set; }
}
