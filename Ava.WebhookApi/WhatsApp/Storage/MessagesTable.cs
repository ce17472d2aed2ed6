using Ava.WebhookApi.WhatsApp.Model;
using Npgsql;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>
/// The webhook's SQL of <c>messages</c>, users' history: the WhatsApp lines it adds, and the delivery status it
/// keeps on each reply's line — the furthest of the sender's outcome and every status Meta reported.
/// </summary>
/// <remarks>
/// A status can arrive while the reply's send is being recorded. Both writers first take a transaction-scoped
/// advisory lock per wamid (in one order, so they cannot deadlock), so each sees what the other committed and
/// the furthest status always wins.
/// </remarks>
internal static class MessagesTable
{
    public static NpgsqlBatchCommand Insert(IReadOnlyList<HistoryRow> history) => Command(
        """
        INSERT INTO messages (id, user_id, avatar_id, channel, role, content, created_at, external_id, delivery_status)
        SELECT m.id, m.user_id, NULL, 'whatsapp', m.role, m.content, m.created_at, m.external_id, m.delivery_status
        FROM unnest($1::uuid[], $2::uuid[], $3::message_role[], $4::text[], $5::timestamptz[], $6::text[], $7::delivery_status[])
            AS m(id, user_id, role, content, created_at, external_id, delivery_status)
        """,
        Uuids(history.Select(m => (Guid?)m.Id)),
        Uuids(history.Select(m => (Guid?)m.UserId)),
        Enums(history.Select(m => m.Role)),
        Texts(history.Select(m => m.Content)),
        Times(history.Select(m => (DateTimeOffset?)m.CreatedAt)),
        Texts(history.Select(m => m.ExternalId)),
        new NpgsqlParameter { DataTypeName = "delivery_status[]", Value = history.Select(m => m.DeliveryStatus).ToArray() });

    /// <summary>Serialises status writers per reply wamid for the rest of the transaction.</summary>
    public static NpgsqlBatchCommand LockReplyStatuses(IEnumerable<string> wamids) => Command(
        """
        SELECT pg_advisory_xact_lock(l.key)
        FROM (SELECT DISTINCT hashtextextended(w, 0) AS key FROM unnest($1::text[]) AS w ORDER BY key) AS l
        """,
        Texts(wamids));

    /// <summary>Moves the status of the replies these statuses are about forward (never back).</summary>
    public static NpgsqlBatchCommand ApplyStatuses(IReadOnlyList<IncomingStatus> statuses) => Command(
        """
        UPDATE messages m SET delivery_status = greatest(m.delivery_status, s.status)
        FROM (
            SELECT r.message_id, max(s.status) AS status
            FROM unnest($1::text[], $2::delivery_status[]) AS s(wamid, status)
            JOIN outbound_replies r ON r.wamid = s.wamid
            WHERE r.message_id IS NOT NULL
            GROUP BY r.message_id) AS s
        WHERE m.id = s.message_id AND m.delivery_status IS DISTINCT FROM greatest(m.delivery_status, s.status)
        """,
        Texts(statuses.Select(s => s.Wamid)),
        Enums(statuses.Select(s => s.Status)));

    /// <summary>
    /// After the outbox recorded replies a status showed accepted (in the same transaction): their lines, which
    /// had no wamid yet, get it — so that the statuses that follow reach them.
    /// </summary>
    public static NpgsqlBatchCommand ApplyAcceptedSends(IEnumerable<long> replyIds) => Command(
        """
        UPDATE messages m
        SET external_id = r.wamid, delivery_status = greatest(m.delivery_status, r.status)
        FROM outbound_replies r
        WHERE r.id = ANY($1) AND r.message_id = m.id AND r.wamid IS NOT NULL AND m.external_id IS NULL
        """,
        Ids(replyIds));

    /// <summary>
    /// After the outbox recorded these replies' outcomes in the same transaction: their lines get Meta's wamid and
    /// their status (with any status Meta reported before the send was recorded).
    /// </summary>
    public static NpgsqlBatchCommand ApplyReplyOutcomes(IEnumerable<long> replyIds) => Command(
        """
        UPDATE messages m
        SET external_id = coalesce(r.wamid, m.external_id),
            delivery_status = greatest(r.status, (SELECT max(e.status) FROM delivery_status_events e WHERE e.wamid = r.wamid))
        FROM outbound_replies r
        WHERE r.id = ANY($1) AND r.message_id = m.id AND r.status <> 'pending'
        """,
        Ids(replyIds));

    /// <summary>
    /// After the outbox made these failed replies pending again in the same transaction: their lines say pending
    /// too, until the send's outcome is recorded.
    /// </summary>
    public static NpgsqlBatchCommand ApplyRequeuedReplies(IEnumerable<long> replyIds) => Command(
        """
        UPDATE messages m SET delivery_status = 'pending'
        FROM outbound_replies r
        WHERE r.id = ANY($1) AND r.message_id = m.id AND r.status = 'pending' AND m.delivery_status = 'failed'
        """,
        Ids(replyIds));
}
