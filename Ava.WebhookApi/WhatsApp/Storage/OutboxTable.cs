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

/// <summary>
/// The SQL of <c>outbound_replies</c>: the outbox. Replies are written with the messages they answer; the sender
/// claims due ones under a claim token and a lease, and records outcomes many per statement, each matched to the
/// claim that made the send — so that a sender whose lease was taken over cannot overwrite the new holder's result.
/// </summary>
internal static partial class OutboxTable
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
}
