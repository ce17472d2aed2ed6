using Npgsql;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>
/// The SQL every leased table shares (columns <c>id</c>, <c>claim_token</c>, <c>locked_until</c>): the claim and the
/// lease renewal of <see cref="Claims.LeasedQueue{T}"/>. What finishes or releases a row is each store's own, and
/// matches the claim token it holds.
/// </summary>
internal static class LeasedTable
{
    /// <summary>
    /// Claims up to <c>$3</c> rows under the token <c>$1</c> with the lease <c>$2</c>: rows nobody holds and, when
    /// <c>$4</c>, rows whose holder's lease ran out — among those <paramref name="due"/> admits, in
    /// <paramref name="order"/>, skipping rows another statement has locked. Further parameters start at <c>$5</c>.
    /// <paramref name="returning"/> may name <c>c.taken_over</c>: whether the row was taken over from such a holder.
    /// </summary>
    /// <param name="alsoSet">More of the store's own assignments made with the claim (e.g. <c>next_attempt_at = …</c>), or null.</param>
    /// <param name="table">A table name constant of a store, never input; <paramref name="due"/>, <paramref name="order"/> and <paramref name="returning"/> too.</param>
    /// <param name="due">The store's own condition on <c>c</c>, the candidate row.</param>
    public static NpgsqlCommand Claim(
        NpgsqlDataSource dataSource, string table, string due, string order, string returning, Guid token, TimeSpan lease, int limit, bool takeOverExpired,
        string? alsoSet = null)
    {
        var claim = dataSource.CreateCommand(
            $"""
            UPDATE {table} t
            SET claim_token = $1, locked_until = now() + $2{(alsoSet is null ? "" : ", " + alsoSet)}
            FROM (
                SELECT c.id, c.claim_token IS NOT NULL AS taken_over FROM {table} c
                WHERE ({due})
                  AND (c.locked_until IS NULL OR c.locked_until < now())
                  AND (c.claim_token IS NULL OR $4)
                ORDER BY {order}
                LIMIT $3
                FOR UPDATE SKIP LOCKED) AS c
            WHERE t.id = c.id
            RETURNING {returning}
            """);
        claim.Parameters.Add(Value(token));
        claim.Parameters.Add(Value(lease));
        claim.Parameters.Add(Value(limit));
        claim.Parameters.Add(Value(takeOverExpired));
        return claim;
    }

    /// <summary>Extends, in one statement, the leases of the rows still held under their claim tokens.</summary>
    /// <param name="table">A table name constant of a store, never input.</param>
    /// <param name="ids">In ascending order: rows are locked in id order, as every other statement that updates many of them does.</param>
    /// <returns>The rows whose lease was extended.</returns>
    public static async Task<IReadOnlySet<(long Id, Guid Token)>> RenewAsync(
        NpgsqlDataSource dataSource, string table, long[] ids, Guid[] tokens, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var renew = dataSource.CreateCommand(
            $"""
            WITH held AS (
                SELECT t.id FROM {table} t
                JOIN unnest($1::bigint[], $2::uuid[]) AS h(id, token) ON t.id = h.id AND t.claim_token = h.token
                ORDER BY t.id
                FOR NO KEY UPDATE OF t)
            UPDATE {table} t SET locked_until = now() + $3
            FROM held WHERE t.id = held.id
            RETURNING t.id, t.claim_token
            """);
        renew.Parameters.Add(Ids(ids));
        renew.Parameters.Add(Uuids(tokens.Select(t => (Guid?)t)));
        renew.Parameters.Add(Value(lease));

        var renewed = new HashSet<(long, Guid)>();
        await using var reader = await renew.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            renewed.Add((reader.GetInt64(0), reader.GetGuid(1)));
        }

        return renewed;
    }
}
