using Npgsql;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>The lease renewal the claimed tables share (same columns: id, claim_token, locked_until).</summary>
internal static class ClaimRenewal
{
    /// <param name="table">A table name constant of a store, never input.</param>
    /// <param name="ids">In ascending order: rows are locked in id order, as every other statement that updates many of them does.</param>
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
