namespace Ava.Data.WhatsApp;

/// <summary>
/// Ava's answer to an inbound message: the outbox the sender works through, written in the same transaction as the
/// inbound message (or as the responder's answer to its turn), so a reply is neither lost nor created twice.
/// </summary>
public sealed class OutboundReply
{
    public long Id { get; set; }

    /// <summary>
    /// The message Ava answered itself (echo, registration, LINK); unique, so such a message never gets two replies.
    /// Null for a responder's reply, which belongs to its <see cref="TurnId"/>.
    /// </summary>
    public string? InboundWamid { get; set; }

    /// <summary>The turn whose answer this reply is part of (see <see cref="ConversationTurn"/>).</summary>
    public long? TurnId { get; set; }

    /// <summary>Its place among the turn's replies: unique with the turn, and the order in which they go.</summary>
    public int? TurnReplyIndex { get; set; }

    public Guid? UserId { get; set; }

    /// <summary>The reply's row in <c>messages</c>, for linked users.</summary>
    public Guid? MessageId { get; set; }

    public required string PhoneNumberId { get; set; }

    /// <summary>The recipient's phone; null for a user known only by their business-scoped user id.</summary>
    public string? ToPhone { get; set; }

    /// <summary>The recipient's business-scoped user id: where the reply goes when there is no phone.</summary>
    public string? ToUserId { get; set; }

    public required string Body { get; set; }

    /// <summary>The sender's side: pending until Meta accepts (sent) or refuses for good (failed).</summary>
    public DeliveryStatus Status { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset NextAttemptAt { get; set; }

    public DateTimeOffset? LockedUntil { get; set; }

    /// <summary>The claim that holds the reply (see <see cref="InboundDelivery.ClaimToken"/>).</summary>
    public Guid? ClaimToken { get; set; }

    /// <summary>
    /// When the customer-service window of the message this answers closes (24 hours after the user wrote): until
    /// then a reply is worth retrying; after it Meta would refuse it.
    /// </summary>
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Meta's id of the sent reply.</summary>
    public string? Wamid { get; set; }

    public int? ErrorCode { get; set; }

    public string? ErrorTitle { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>W3C traceparent of the processing that made the reply, so that sending joins the message's trace.</summary>
    public string? TraceParent { get; set; }

    public DateTimeOffset? SentAt { get; set; }

    /// <summary>
    /// The reply's own random key, sent with it as callback data: a status proves this reply was accepted only when it
    /// carries this key (the id alone may name another reply after a restore, or in another deployment).
    /// </summary>
    public Guid Reference { get; set; }

    /// <summary>
    /// Its last attempt may have reached Meta (a timeout, a lost answer, a holder that died): it waits for its status
    /// before it is tried again, and is not sent early when its number recovers.
    /// </summary>
    public bool InDoubt { get; set; }

    /// <summary>
    /// The earliest Meta allowed the next attempt (its Retry-After), when it said: the number's recovery resumes
    /// waiting replies, but never before this.
    /// </summary>
    public DateTimeOffset? RetryNotBefore { get; set; }
}
