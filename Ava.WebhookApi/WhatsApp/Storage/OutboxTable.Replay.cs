using Npgsql;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>A reply Meta refused for good, or whose window closed before it could be sent.</summary>
/// <param name="ExpiresAt">When the customer-service window of the message it answers closes (or closed).</param>
/// <param name="To">The recipient's phone, else their business-scoped user id.</param>
internal sealed record FailedReply(
    long Id, string To, int Attempts, int? ErrorCode, string? ErrorTitle, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

// Replies that failed for good, for an operator to list and replay (see Replay/FailedWorkReplay).
internal static partial class OutboxTable
{
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
