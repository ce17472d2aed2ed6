using Npgsql;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>A turn that ended failed, for a person to look at and replay.</summary>
internal sealed record FailedTurn(long Id, string InboundWamid, Guid UserId, int Attempts, string? Error, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

// Turns that failed for good, for an operator to list and replay (see Replay/FailedWorkReplay).
internal static partial class TurnsTable
{
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
