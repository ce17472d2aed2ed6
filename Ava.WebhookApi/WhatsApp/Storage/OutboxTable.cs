using Ava.Data.WhatsApp;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Model;
using Npgsql;
using NpgsqlTypes;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>A reply held by this instance's sender under <paramref name="Token"/>.</summary>
/// <param name="ToPhone">The recipient's phone, where the reply goes when there is one.</param>
/// <param name="InboundWamid">The message it answers, which is marked read just before the reply goes.</param>
/// <param name="ToUserId">The recipient's business-scoped user id, where the reply goes without a phone.</param>
/// <param name="TurnId">The turn whose answer it belongs to: its next reply may go once this one has.</param>
/// <param name="Reference">The reply's own key, which its send carries for Meta to repeat in its statuses.</param>
/// <param name="TakenOver">Claimed from a holder whose lease ran out: that holder may have sent it.</param>
internal sealed record ClaimedReply(
    long Id, Guid Token, string PhoneNumberId, string? ToPhone, string Body, int Attempts, string? TraceParent, DateTimeOffset ExpiresAt,
    string? InboundWamid = null, string? ToUserId = null, long? TurnId = null, Guid Reference = default, bool TakenOver = false) : IClaimedRow;

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

/// <summary>A reply Meta refused for good, or whose window closed before it could be sent.</summary>
/// <param name="ExpiresAt">When the customer-service window of the message it answers closes (or closed).</param>
/// <param name="To">The recipient's phone, else their business-scoped user id.</param>
internal sealed record FailedReply(
    long Id, string To, int Attempts, int? ErrorCode, string? ErrorTitle, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

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

/// <summary>
/// The SQL of <c>outbound_replies</c>: the outbox. Replies are written with the messages they answer; the sender
/// claims due ones under a claim token and a lease, and records outcomes many per statement, each matched to the
/// claim that made the send — so that a sender whose lease was taken over cannot overwrite the new holder's result.
/// </summary>
internal static class OutboxTable
{
    public const string Name = "outbound_replies";

    /// <summary>
    /// Puts replies in the outbox: unclaimed, for any sender's sweep; or — with a <paramref name="token"/> — already
    /// claimed for this instance's sender, returned as <see cref="ClaimedReply"/> rows (read them with
    /// <see cref="ReadClaimedAsync"/>).
    /// </summary>
    public static NpgsqlBatchCommand Insert(IReadOnlyList<ReplyRow> replies, Guid? token = null, TimeSpan lease = default) => Command(
        $"""
        INSERT INTO outbound_replies (inbound_wamid, turn_id, turn_reply_index, user_id, message_id, phone_number_id, to_phone, to_user_id, body, status, expires_at, trace_parent, claim_token, locked_until)
        SELECT r.inbound_wamid, r.turn_id, r.turn_reply_index, r.user_id, r.message_id, r.phone_number_id, r.to_phone, r.to_user_id, r.body, 'pending', r.expires_at, r.trace_parent,
               $9, CASE WHEN $9 IS NULL THEN NULL ELSE clock_timestamp() + $10 END
        FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $11::text[], $12::bigint[], $13::integer[])
            AS r(inbound_wamid, user_id, message_id, phone_number_id, to_phone, body, expires_at, trace_parent, to_user_id, turn_id, turn_reply_index)
        -- A message Ava answered, or a turn's reply, already in the outbox (the message or the answer seen again).
        ON CONFLICT DO NOTHING
        {(token is null ? "" : "RETURNING " + ClaimedColumns)}
        """,
        Texts(replies.Select(r => r.InboundWamid)),
        Uuids(replies.Select(r => r.UserId)),
        Uuids(replies.Select(r => r.MessageId)),
        Texts(replies.Select(r => r.PhoneNumberId)),
        Texts(replies.Select(r => r.ToPhone)),
        Texts(replies.Select(r => r.Body)),
        Times(replies.Select(r => (DateTimeOffset?)r.ExpiresAt)),
        Texts(replies.Select(r => r.TraceParent)),
        new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Uuid, Value = (object?)token ?? DBNull.Value },
        Value(lease),
        Texts(replies.Select(r => r.ToUserId)),
        OptionalIds(replies.Select(r => r.TurnId)),
        Integers(replies.Select(r => r.TurnReplyIndex)));

    /// <summary>The rows of a claiming statement (an insert with a token, or a claim), as the reader stands at them.</summary>
    public static async Task<List<ClaimedReply>> ReadClaimedAsync(NpgsqlDataReader reader, Guid token, CancellationToken cancellationToken)
    {
        var claimed = new List<ClaimedReply>();
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new ClaimedReply(
                reader.GetInt64(0), token, reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3), reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetFieldValue<DateTimeOffset>(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetInt64(9), reader.GetGuid(10),
                TakenOver: reader.FieldCount > 11 && reader.GetBoolean(11)));
        }

        return claimed;
    }

    private const string ClaimedColumns = "id, phone_number_id, to_phone, body, attempts, trace_parent, expires_at, inbound_wamid, to_user_id, turn_id, reference";

    /// <summary>
    /// Claims up to <paramref name="limit"/> due replies, longest-waiting first, skipping numbers that already have
    /// a second's worth waiting here (<paramref name="saturatedNumbers"/>), so that one busy number cannot crowd out
    /// the others; a turn's reply waits until the one before it has gone, so that they arrive in order.
    /// </summary>
    public static async Task<List<ClaimedReply>> ClaimAsync(
        NpgsqlDataSource dataSource,
        Guid token,
        int limit,
        TimeSpan lease,
        bool takeOverExpired,
        IReadOnlyCollection<string> saturatedNumbers,
        CancellationToken cancellationToken)
    {
        await using var claim = LeasedTable.Claim(
            dataSource,
            Name,
            due: """
                c.status = 'pending' AND c.next_attempt_at <= now() AND c.phone_number_id <> ALL($5)
                AND (c.turn_id IS NULL OR NOT EXISTS (
                    SELECT 1 FROM outbound_replies p
                    WHERE p.turn_id = c.turn_id AND p.turn_reply_index < c.turn_reply_index AND p.status = 'pending'))
                """,
            order: "c.next_attempt_at, c.id",
            returning: string.Join(", ", ClaimedColumns.Split(", ").Select(column => "t." + column)) + ", c.taken_over",
            token,
            lease,
            limit,
            takeOverExpired);
        claim.Parameters.Add(Texts(saturatedNumbers));

        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        return await ReadClaimedAsync(reader, token, cancellationToken);
    }

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

    /// <summary>
    /// Makes the replies of a business number that wait for a retry after a transient failure due now (up to
    /// <paramref name="limit"/>, longest-waiting first): the Graph API answers that number again. Replies whose last
    /// error was <paramref name="keepWaitingCode"/> (a limit of one recipient, not of the number) keep their time, and
    /// so do replies in doubt: Meta may have accepted them, and their status is what they wait for. A reply Meta asked
    /// to wait (Retry-After) goes no sooner than Meta said: another send accepted meanwhile does not overrule that.
    /// </summary>
    /// <returns>How many were made due.</returns>
    public static async Task<int> ResumeAsync(
        NpgsqlDataSource dataSource, string phoneNumberId, int limit, int keepWaitingCode, CancellationToken cancellationToken)
    {
        await using var resume = dataSource.CreateCommand(
            """
            UPDATE outbound_replies r SET next_attempt_at = greatest(now(), r.retry_not_before)
            WHERE r.id IN (
                SELECT id FROM outbound_replies
                WHERE status = 'pending' AND phone_number_id = $1 AND next_attempt_at > greatest(now(), retry_not_before) AND attempts > 0
                  AND claim_token IS NULL AND error_code IS DISTINCT FROM $3 AND NOT in_doubt
                ORDER BY next_attempt_at, id
                LIMIT $2
                FOR UPDATE SKIP LOCKED)
            """);
        resume.Parameters.Add(Value(phoneNumberId));
        resume.Parameters.Add(Value(limit));
        resume.Parameters.Add(Value(keepWaitingCode));
        return await resume.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Failed replies, newest first: the latest <paramref name="limit"/>, or those of <paramref name="ids"/> among them.</summary>
    public static async Task<List<FailedReply>> ListFailedAsync(
        NpgsqlDataSource dataSource, IReadOnlyCollection<long>? ids, int limit, CancellationToken cancellationToken)
    {
        await using var list = dataSource.CreateCommand(
            $"""
            SELECT id, coalesce(to_phone, to_user_id), attempts, error_code, error_title, created_at, expires_at FROM outbound_replies
            WHERE status = 'failed' {(ids is null ? "" : "AND id = ANY($2)")}
            ORDER BY id DESC
            LIMIT $1
            """);
        list.Parameters.Add(Value(limit));
        if (ids is not null)
        {
            list.Parameters.Add(Ids(ids));
        }

        var failed = new List<FailedReply>();
        await using var reader = await list.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            failed.Add(new FailedReply(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetInt32(2),
                reader.IsDBNull(3) ? null : reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.GetFieldValue<DateTimeOffset>(5),
                reader.GetFieldValue<DateTimeOffset>(6)));
        }

        return failed;
    }

    /// <summary>
    /// Makes failed replies pending and due now, unclaimed and with no attempts counted, for any sender's sweep. Only
    /// replies that are failed at that moment change (returned as rows), so replaying twice, or alongside another
    /// replay, sends nothing twice.
    /// </summary>
    public static NpgsqlBatchCommand RequeueFailed(IReadOnlyCollection<long> ids) => Command(
        """
        UPDATE outbound_replies r
        SET status = 'pending', next_attempt_at = now(), attempts = 0, error_code = NULL, error_title = NULL,
            claim_token = NULL, locked_until = NULL
        WHERE r.id IN (SELECT id FROM outbound_replies WHERE id = ANY($1) AND status = 'failed' ORDER BY id FOR UPDATE)
        RETURNING r.id
        """,
        Ids(ids));

}
