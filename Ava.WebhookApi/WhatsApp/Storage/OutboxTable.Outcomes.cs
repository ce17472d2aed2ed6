using Ava.Data.WhatsApp;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Model;
using Npgsql;
using NpgsqlTypes;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>What the sender learned about a claimed reply.</summary>
internal enum ReplyState
{
    /// <summary>Meta accepted it (with a wamid).</summary>
    Sent,

    /// <summary>Not accepted this time: tried again after a delay.</summary>
    Retry,

    /// <summary>Refused for good, or its window closed: recorded with the reason.</summary>
    Failed,

    /// <summary>Not sent at all (shutting down, or the lease could not be trusted): handed back as it was.</summary>
    Released,
}

/// <param name="Attempted">Whether a send was made (counted in <c>attempts</c>).</param>
/// <param name="TurnId">The turn the reply belongs to (see <see cref="ClaimedReply.TurnId"/>).</param>
/// <param name="InDoubt">This attempt may have reached Meta: the reply waits for its status (see <see cref="Ava.Data.WhatsApp.OutboundReply.InDoubt"/>).</param>
/// <param name="NotBefore">How long Meta asked to wait (Retry-After): not even its number's recovery sends it sooner.</param>
internal sealed record ReplyOutcome(
    long Id,
    Guid Token,
    ReplyState State,
    bool Attempted,
    string? Wamid = null,
    int? ErrorCode = null,
    string? ErrorTitle = null,
    TimeSpan? RetryIn = null,
    long? TurnId = null,
    bool InDoubt = false,
    TimeSpan? NotBefore = null) : IClaimedRow;

// What became of replies: a sender's outcomes, and sends that Meta's statuses show accepted.
internal static partial class OutboxTable
{
    /// <summary>
    /// Records outcomes, each only where its claim still holds the reply. Pass them in id order (lock order). A reply
    /// a status already showed accepted (<see cref="RecordAccepted"/>) keeps that: a send that seemed to fail, or a
    /// second one, does not undo it.
    /// </summary>
    public static NpgsqlBatchCommand Record(IReadOnlyList<ReplyOutcome> outcomes) => Command(
        """
        UPDATE outbound_replies r
        SET status = CASE WHEN r.wamid IS NULL THEN o.status ELSE r.status END,
            wamid = coalesce(r.wamid, o.wamid),
            sent_at = coalesce(r.sent_at, CASE WHEN o.status = 'sent' THEN now() END),
            attempts = r.attempts + CASE WHEN o.attempted THEN 1 ELSE 0 END,
            next_attempt_at = CASE WHEN o.retry_in IS NULL OR r.wamid IS NOT NULL THEN r.next_attempt_at ELSE now() + o.retry_in END,
            error_code = CASE WHEN o.state = 'released' OR r.wamid IS NOT NULL THEN r.error_code ELSE o.error_code END,
            error_title = CASE WHEN o.state = 'released' OR r.wamid IS NOT NULL THEN r.error_title ELSE o.error_title END,
            in_doubt = CASE WHEN o.state = 'released' THEN r.in_doubt ELSE o.in_doubt END,
            retry_not_before = CASE WHEN o.state = 'released' THEN r.retry_not_before ELSE now() + o.not_before END,
            locked_until = NULL,
            claim_token = NULL
        FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::delivery_status[], $5::boolean[], $6::text[], $7::integer[], $8::text[], $9::interval[], $10::boolean[], $11::interval[])
            AS o(id, token, state, status, attempted, wamid, error_code, error_title, retry_in, in_doubt, not_before)
        WHERE r.id = o.id AND r.claim_token = o.token
        """,
        Ids(outcomes.Select(o => o.Id)),
        Uuids(outcomes.Select(o => (Guid?)o.Token)),
        Texts(outcomes.Select(o => o.State.ToString().ToLowerInvariant())),
        Enums(outcomes.Select(o => o.State switch
        {
            ReplyState.Sent => DeliveryStatus.Sent,
            ReplyState.Failed => DeliveryStatus.Failed,
            _ => DeliveryStatus.Pending,
        })),
        new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Boolean, Value = outcomes.Select(o => o.Attempted).ToArray() },
        Texts(outcomes.Select(o => o.Wamid)),
        Integers(outcomes.Select(o => o.ErrorCode)),
        Texts(outcomes.Select(o => o.ErrorTitle)),
        new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Interval, Value = outcomes.Select(o => o.RetryIn).ToArray() },
        new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Boolean, Value = outcomes.Select(o => o.InDoubt).ToArray() },
        new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Interval, Value = outcomes.Select(o => o.NotBefore).ToArray() });

    /// <summary>
    /// Records replies that statuses show Meta accepted, where no send was recorded yet — because the answer to the
    /// send was lost, or its sender died between Meta's accept and its record. Marked sent, they are never claimed
    /// again; a claim that still holds is left to its holder, whose record then keeps this. A status proves a reply
    /// only with the reply's own key, from its number, to its recipient.
    /// </summary>
    public static NpgsqlBatchCommand RecordAccepted(IReadOnlyList<AcceptedSend> accepted) => Command(
        """
        UPDATE outbound_replies r
        SET status = 'sent',
            wamid = a.wamid,
            sent_at = coalesce(r.sent_at, now()),
            error_code = NULL,
            error_title = NULL,
            claim_token = CASE WHEN r.locked_until < now() THEN NULL ELSE r.claim_token END,
            locked_until = CASE WHEN r.locked_until < now() THEN NULL ELSE r.locked_until END
        FROM unnest($1::bigint[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[]) AS a(id, wamid, phone_number_id, reference, recipient_id, recipient_user_id)
        WHERE r.id = a.id AND r.wamid IS NULL AND r.phone_number_id = a.phone_number_id AND r.reference = a.reference
          AND (r.to_phone = a.recipient_id OR r.to_user_id = a.recipient_user_id)
        """,
        Ids(accepted.Select(a => a.ReplyId)),
        Texts(accepted.Select(a => a.Wamid)),
        Texts(accepted.Select(a => a.PhoneNumberId)),
        Uuids(accepted.Select(a => (Guid?)a.Reply.Key)),
        Texts(accepted.Select(a => a.RecipientId)),
        Texts(accepted.Select(a => a.RecipientUserId)));
}
