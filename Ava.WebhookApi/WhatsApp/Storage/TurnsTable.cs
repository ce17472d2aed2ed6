using Ava.Data.Messages;
using Ava.Data.WhatsApp;
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
    string PhoneNumberId,
    string? ToPhone,
    string? ToUserId,
    string MessageType,
    string Content,
    DateTimeOffset WrittenAt,
    int Attempts,
    DateTimeOffset ExpiresAt,
    string? TraceParent) : IClaimedRow;

/// <summary>How a claimed turn ends: its status, and the replies (with their history lines) it leaves for the outbox.</summary>
/// <param name="HandOver">Its replies may go to this instance's sender already claimed (a single reply: nothing to keep in order).</param>
internal sealed record TurnEnding(
    ClaimedTurn Turn, ConversationTurnStatus Status, string? Error, IReadOnlyList<HistoryRow> History, IReadOnlyList<ReplyRow> Replies, bool HandOver);

/// <summary>A line of history as the responder sees it.</summary>
internal sealed record HistoryLine(MessageRole Role, string Content, DateTimeOffset CreatedAt);

/// <summary>A turn that ended failed, for a person to look at and replay.</summary>
internal sealed record FailedTurn(long Id, string InboundWamid, Guid UserId, int Attempts, string? Error, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

/// <summary>
/// The SQL of <c>conversation_turns</c>: the compose stage's queue. Turns are written with the messages they answer;
/// the composer claims them under a claim token and a lease — only a user's earliest unanswered turn, and only once
/// the replies of their previous turns have gone, so that the responder sees one turn of a user at a time, in order.
/// Every write that ends a turn matches its claim token and writes the turn's replies in the same transaction.
/// </summary>
internal static class TurnsTable
{
    public const string Name = "conversation_turns";

    public static NpgsqlBatchCommand Insert(IReadOnlyList<TurnRow> turns) => Command(
        """
        INSERT INTO conversation_turns (inbound_wamid, user_id, message_id, phone_number_id, to_phone, to_user_id, message_type, content, written_at, expires_at, trace_parent)
        SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[], $11::text[])
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
        Texts(turns.Select(t => t.TraceParent)));

    /// <summary>
    /// Claims up to <paramref name="limit"/> turns that are due, oldest first: for each user, the earliest turn not
    /// yet answered, once every reply of the user's earlier turns has left the outbox (see <see cref="LeasedTable.Claim"/>).
    /// </summary>
    public static async Task<List<ClaimedTurn>> ClaimAsync(
        NpgsqlDataSource dataSource, Guid token, int limit, TimeSpan lease, bool takeOverExpired, CancellationToken cancellationToken)
    {
        await using var claim = LeasedTable.Claim(
            dataSource,
            Name,
            due: """
                c.status = 'pending' AND c.next_attempt_at <= now()
                AND NOT EXISTS (
                    SELECT 1 FROM conversation_turns e
                    WHERE e.user_id = c.user_id AND e.status = 'pending' AND (e.written_at, e.id) < (c.written_at, c.id))
                AND NOT EXISTS (
                    SELECT 1 FROM outbound_replies r
                    WHERE r.user_id = c.user_id AND r.status = 'pending' AND r.turn_id IS NOT NULL)
                """,
            order: "c.next_attempt_at, c.id",
            returning: "t.id, t.inbound_wamid, t.user_id, t.phone_number_id, t.to_phone, t.to_user_id, t.message_type, t.content, t.written_at, t.attempts, t.expires_at, t.trace_parent",
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
                reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.GetString(6),
                reader.GetString(7),
                reader.GetFieldValue<DateTimeOffset>(8),
                reader.GetInt32(9),
                reader.GetFieldValue<DateTimeOffset>(10),
                reader.IsDBNull(11) ? null : reader.GetString(11)));
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

    /// <summary>
    /// Ends turns — answered or failed — with their replies and those replies' history lines, many in one transaction,
    /// each only while its claim still holds it: a turn answered twice (its responder asked again after a crash, or
    /// by a holder whose lease was taken over) writes its replies once.
    /// </summary>
    /// <param name="handedToken">
    /// The claim under which the replies of <paramref name="endings"/> that <see cref="TurnEnding.HandOver"/> are
    /// stored, for this instance's sender; null: every reply is stored unclaimed.
    /// </param>
    /// <returns>The turns ended (the others' claims were lost: nothing of theirs was written), and the replies stored under <paramref name="handedToken"/>.</returns>
    public static async Task<(HashSet<long> Ended, List<ClaimedReply> Handed)> EndAsync(
        NpgsqlDataSource dataSource, IReadOnlyList<TurnEnding> endings, Guid? handedToken, TimeSpan lease, CancellationToken cancellationToken)
    {
        // In id order: the order in which every statement that updates many turns locks them.
        var ordered = endings.OrderBy(e => e.Turn.Id).ToList();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var ended = new HashSet<long>();
        await using (var end = new NpgsqlCommand(
            """
            UPDATE conversation_turns t
            SET status = e.status, error = e.error, answered_at = now(), claim_token = NULL, locked_until = NULL,
                attempts = t.attempts + CASE WHEN e.status = 'failed'::turn_status THEN 1 ELSE 0 END
            FROM unnest($1::bigint[], $2::uuid[], $3::turn_status[], $4::text[]) AS e(id, token, status, error)
            WHERE t.id = e.id AND t.claim_token = e.token AND t.status = 'pending'
            RETURNING t.id
            """,
            connection,
            transaction))
        {
            end.Parameters.Add(Ids(ordered.Select(e => e.Turn.Id)));
            end.Parameters.Add(Uuids(ordered.Select(e => (Guid?)e.Turn.Token)));
            end.Parameters.Add(new NpgsqlParameter { DataTypeName = "turn_status[]", Value = ordered.Select(e => e.Status).ToArray() });
            end.Parameters.Add(Texts(ordered.Select(e => e.Error)));
            await using var reader = await end.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ended.Add(reader.GetInt64(0));
            }
        }

        var written = ordered.Where(e => ended.Contains(e.Turn.Id)).ToList();
        List<HistoryRow> history = [.. written.SelectMany(e => e.History)];
        List<ReplyRow> handed = [.. written.Where(e => e.HandOver && handedToken is not null).SelectMany(e => e.Replies)];
        List<ReplyRow> swept = [.. written.Where(e => !e.HandOver || handedToken is null).SelectMany(e => e.Replies)];
        List<ClaimedReply> claimed = [];
        if (history.Count + handed.Count + swept.Count > 0)
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            if (handed.Count > 0)
            {
                batch.BatchCommands.Add(OutboxTable.Insert(handed, handedToken, lease));
            }

            if (swept.Count > 0)
            {
                batch.BatchCommands.Add(OutboxTable.Insert(swept));
            }

            if (history.Count > 0)
            {
                batch.BatchCommands.Add(MessagesTable.Insert(history));
            }

            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            if (handed.Count > 0)
            {
                claimed = await OutboxTable.ReadClaimedAsync(reader, handedToken!.Value, cancellationToken);
            }

            while (await reader.NextResultAsync(cancellationToken))
            {
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return (ended, claimed);
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

    /// <summary>Failed turns, newest first: the latest <paramref name="limit"/>, or those of <paramref name="ids"/> among them.</summary>
    public static async Task<List<FailedTurn>> ListFailedAsync(
        NpgsqlDataSource dataSource, IReadOnlyCollection<long>? ids, int limit, CancellationToken cancellationToken)
    {
        await using var list = dataSource.CreateCommand(
            $"""
            SELECT id, inbound_wamid, user_id, attempts, error, created_at, expires_at FROM conversation_turns
            WHERE status = 'failed' {(ids is null ? "" : "AND id = ANY($2)")}
            ORDER BY id DESC
            LIMIT $1
            """);
        list.Parameters.Add(Value(limit));
        if (ids is not null)
        {
            list.Parameters.Add(Ids(ids));
        }

        var failed = new List<FailedTurn>();
        await using var reader = await list.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            failed.Add(new FailedTurn(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetGuid(2),
                reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.GetFieldValue<DateTimeOffset>(5),
                reader.GetFieldValue<DateTimeOffset>(6)));
        }

        return failed;
    }

    /// <summary>
    /// Makes failed turns pending and due now, unclaimed and with no failures counted, for any composer's sweep. Only
    /// turns that are failed at that moment change (returned), so replaying twice asks the responder once.
    /// </summary>
    public static async Task<List<long>> RequeueFailedAsync(NpgsqlDataSource dataSource, IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        await using var requeue = dataSource.CreateCommand(
            """
            UPDATE conversation_turns t
            SET status = 'pending', next_attempt_at = now(), attempts = 0, error = NULL, answered_at = NULL, claim_token = NULL, locked_until = NULL
            WHERE t.id IN (SELECT id FROM conversation_turns WHERE id = ANY($1) AND status = 'failed' ORDER BY id FOR UPDATE)
            RETURNING t.id
            """);
        requeue.Parameters.Add(Ids(ids));

        var requeued = new List<long>();
        await using var reader = await requeue.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            requeued.Add(reader.GetInt64(0));
        }

        return requeued;
    }
}
