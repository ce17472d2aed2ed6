using Ava.Data.Messages;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Model;
using Npgsql;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>A turn held by this instance's composer under <paramref name="Token"/>.</summary>
/// <param name="Attempts">Failed calls of the responder so far.</param>
internal sealed record ClaimedTurn(
    long Id,
    Guid Token,
    string InboundWamid,
    Guid UserId,
    Guid MessageId,
    string PhoneNumberId,
    string? ToPhone,
    string? ToUserId,
    string MessageType,
    string Content,
    DateTimeOffset WrittenAt,
    int Attempts,
    DateTimeOffset ExpiresAt,
    string? TraceParent) : IClaimedRow;

/// <summary>A line of history as the responder sees it.</summary>
internal sealed record HistoryLine(MessageRole Role, string Content, DateTimeOffset CreatedAt);

/// <summary>
/// The SQL of <c>conversation_turns</c>: the compose stage's queue. Turns are written with the messages they answer;
/// the composer claims them under a claim token and a lease — only a user's earliest unanswered turn, and only once
/// the replies of their previous turns have gone, so that the responder sees one turn of a user at a time, in order.
/// Every write that ends a turn matches its claim token and writes the turn's replies in the same transaction.
/// </summary>
internal static partial class TurnsTable
{
    public const string Name = "conversation_turns";

    /// <summary>How long a turn may wait for deliveries received before its own to be processed.</summary>
    public static readonly TimeSpan ArrivalOrderWindow = TimeSpan.FromSeconds(5);

    public static NpgsqlBatchCommand Insert(IReadOnlyList<TurnRow> turns) => Command(
        """
        INSERT INTO conversation_turns (inbound_wamid, user_id, message_id, phone_number_id, to_phone, to_user_id, message_type, content, written_at, expires_at, trace_parent, delivery_id)
        SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[], $11::text[], $12::bigint[])
        ON CONFLICT (inbound_wamid) DO NOTHING
        """,
        Texts(turns.Select(t => t.InboundWamid)),
        Uuids(turns.Select(t => (Guid?)t.UserId)),
        Uuids(turns.Select(t => (Guid?)t.MessageId)),
        Texts(turns.Select(t => t.PhoneNumberId)),
        Texts(turns.Select(t => t.ToPhone)),
        Texts(turns.Select(t => t.ToUserId)),
        Texts(turns.Select(t => t.MessageType)),
        Texts(turns.Select(t => t.Content)),
        Times(turns.Select(t => (DateTimeOffset?)t.WrittenAt)),
        Times(turns.Select(t => (DateTimeOffset?)t.ExpiresAt)),
        Texts(turns.Select(t => t.TraceParent)),
        Ids(turns.Select(t => t.DeliveryId)));

    /// <summary>
    /// Claims up to <paramref name="limit"/> turns that are due, oldest first: for each user, the earliest turn not
    /// yet answered, once every reply of the user's earlier turns has left the outbox (see <see cref="LeasedTable.Claim"/>).
    /// Earliest is by when it was written, then by the delivery that carried it (Meta's whole seconds tie). And a turn
    /// waits while a delivery received before its own is still being processed — a quick typist's earlier message
    /// may be in it, its turn not yet written — but not for one that failed or came more than
    /// <see cref="ArrivalOrderWindow"/> ago: a delivery stuck or retried holds nobody's turns for long. The earliest such
    /// delivery is looked up once per claim, not once per candidate turn: probed per turn, the pending deliveries'
    /// index (full of entries of just-processed rows until vacuum) was walked again for each, and the claim took most
    /// of Postgres's time under load.
    /// </summary>
    public static async Task<List<ClaimedTurn>> ClaimAsync(
        NpgsqlDataSource dataSource, Guid token, int limit, TimeSpan lease, bool takeOverExpired, CancellationToken cancellationToken)
    {
        await using var claim = LeasedTable.Claim(
            dataSource,
            Name,
            due: $"""
                c.status = 'pending' AND c.next_attempt_at <= now()
                AND NOT EXISTS (
                    SELECT 1 FROM conversation_turns e
                    WHERE e.user_id = c.user_id AND e.status = 'pending'
                      AND (e.written_at, e.delivery_id, e.id) < (c.written_at, c.delivery_id, c.id))
                AND (c.delivery_id IS NULL OR c.delivery_id <= coalesce((
                    SELECT min(d.id) FROM inbound_deliveries d
                    WHERE d.processed_at IS NULL
                      AND d.attempts = 0 AND d.received_at > now() - interval '{ArrivalOrderWindow.TotalSeconds} seconds'), c.delivery_id))
                AND NOT EXISTS (
                    SELECT 1 FROM outbound_replies r
                    WHERE r.user_id = c.user_id AND r.status = 'pending' AND r.turn_id IS NOT NULL)
                """,
            order: "c.next_attempt_at, c.id",
            returning: "t.id, t.inbound_wamid, t.user_id, t.message_id, t.phone_number_id, t.to_phone, t.to_user_id, t.message_type, t.content, t.written_at, t.attempts, t.expires_at, t.trace_parent",
            token,
            lease,
            limit,
            takeOverExpired,
            // A turn waits seconds for the responder while it stays pending: moved past its lease, it is out of the
            // range every sweep scans for due turns until its holder could have died.
            alsoSet: "next_attempt_at = now() + $2");

        var claimed = new List<ClaimedTurn>();
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new ClaimedTurn(
                reader.GetInt64(0),
                token,
                reader.GetString(1),
                reader.GetGuid(2),
                reader.GetGuid(3),
                reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.GetString(7),
                reader.GetString(8),
                reader.GetFieldValue<DateTimeOffset>(9),
                reader.GetInt32(10),
                reader.GetFieldValue<DateTimeOffset>(11),
                reader.IsDBNull(12) ? null : reader.GetString(12)));
        }

        return claimed;
    }

    /// <summary>
    /// The user's latest <paramref name="limit"/> lines of history as the responder knows the conversation, oldest
    /// first: everything but the messages still waiting for their turn — this one and any written after it. Turns are
    /// answered one at a time, so every earlier turn's answer is there, even when Meta's timestamp of a later message
    /// is older than Ava's of that answer.
    /// </summary>
    public static async Task<List<HistoryLine>> HistoryBeforeAsync(
        NpgsqlDataSource dataSource, ClaimedTurn turn, int limit, CancellationToken cancellationToken)
    {
        if (limit == 0)
        {
            return [];
        }

        await using var history = dataSource.CreateCommand(
            """
            SELECT role, content, created_at FROM (
                SELECT m.role, m.content, m.created_at, m.id FROM messages m
                WHERE m.user_id = $1
                  AND NOT (m.role = 'user' AND m.external_id IN (
                      SELECT t.inbound_wamid FROM conversation_turns t WHERE t.user_id = $1 AND t.status = 'pending'))
                ORDER BY m.created_at DESC, m.id DESC
                LIMIT $2) AS latest
            ORDER BY created_at, id
            """);
        history.Parameters.Add(Value(turn.UserId));
        history.Parameters.Add(Value(limit));

        var lines = new List<HistoryLine>(limit);
        await using var reader = await history.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            lines.Add(new HistoryLine(reader.GetFieldValue<MessageRole>(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)));
        }

        return lines;
    }

    /// <summary>Hands a turn back, to be claimed again after <paramref name="delay"/>, counting a failed call when <paramref name="countFailure"/>.</summary>
    public static async Task ReleaseAsync(
        NpgsqlDataSource dataSource, ClaimedTurn turn, TimeSpan delay, string? error, bool countFailure, CancellationToken cancellationToken)
    {
        await using var release = dataSource.CreateCommand(
            """
            UPDATE conversation_turns
            SET claim_token = NULL, locked_until = NULL, next_attempt_at = now() + $3, error = coalesce($4, error),
                attempts = attempts + $5
            WHERE id = $1 AND claim_token = $2
            """);
        release.Parameters.Add(Value(turn.Id));
        release.Parameters.Add(Value(turn.Token));
        release.Parameters.Add(Value(delay));
        release.Parameters.Add(Text(error));
        release.Parameters.Add(Value(countFailure ? 1 : 0));
        await release.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>How many turns wait for the responder, across all instances.</summary>
    public static async Task<long> CountWaitingAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var count = dataSource.CreateCommand("SELECT count(*) FROM conversation_turns WHERE status = 'pending'");
        return (long)(await count.ExecuteScalarAsync(cancellationToken))!;
    }
}
