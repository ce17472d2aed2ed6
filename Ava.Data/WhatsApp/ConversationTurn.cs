using NpgsqlTypes;

namespace Ava.Data.WhatsApp;

/// <summary>
/// A linked user's message waiting for the responder's answer: the compose stage's queue. Made in the same
/// transaction as the message's history line; answered once, its replies written to the outbox in the transaction
/// that marks it answered, so that a responder called twice for it still makes its replies once.
/// </summary>
public sealed class ConversationTurn
{
    public long Id { get; set; }

    /// <summary>The message this turn answers (Meta's wamid): the turn's id towards the responder and its idempotency key.</summary>
    public required string InboundWamid { get; set; }

    public Guid UserId { get; set; }

    /// <summary>The user's message in <c>messages</c>: the history the responder sees stops before it.</summary>
    public Guid MessageId { get; set; }

    public required string PhoneNumberId { get; set; }

    /// <summary>The user's phone, where the replies go when there is one.</summary>
    public string? ToPhone { get; set; }

    /// <summary>The user's business-scoped user id, where the replies go without a phone.</summary>
    public string? ToUserId { get; set; }

    /// <summary>The message's type (text, image, …).</summary>
    public required string MessageType { get; set; }

    /// <summary>The text, or a readable summary of anything else (as logged in history).</summary>
    public required string Content { get; set; }

    /// <summary>When the user wrote it (Meta's timestamp, else when Ava received it): turns of one user go in this order.</summary>
    public DateTimeOffset WrittenAt { get; set; }

    /// <summary>
    /// The delivery that carried the message, in the order Ava received deliveries: Meta's timestamps count whole
    /// seconds, so a quick typist's messages tie, and then arrival decides (0 for turns older than this column).
    /// </summary>
    public long DeliveryId { get; set; }

    public ConversationTurnStatus Status { get; set; }

    /// <summary>Failed calls of the responder so far (outages of Ava's own database are not counted).</summary>
    public int Attempts { get; set; }

    public DateTimeOffset NextAttemptAt { get; set; }

    public DateTimeOffset? LockedUntil { get; set; }

    /// <summary>The claim that holds the turn (see <see cref="InboundDelivery.ClaimToken"/>).</summary>
    public Guid? ClaimToken { get; set; }

    /// <summary>When the user's customer-service window closes: the responder is retried until then, never after.</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Why the last call failed, or why the turn ended failed.</summary>
    public string? Error { get; set; }

    /// <summary>W3C traceparent of the processing that made the turn, so that composing joins the message's trace.</summary>
    public string? TraceParent { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? AnsweredAt { get; set; }
}

/// <summary>Where a turn stands. Stored as the Postgres enum <c>turn_status</c>.</summary>
public enum ConversationTurnStatus
{
    /// <summary>Waiting for the responder, or being composed under a claim.</summary>
    [PgName("pending")]
    Pending,

    /// <summary>The responder answered; its replies are in the outbox.</summary>
    [PgName("answered")]
    Answered,

    /// <summary>The responder refused, or the window closed first: the fallback message went instead; replayable.</summary>
    [PgName("failed")]
    Failed,
}
