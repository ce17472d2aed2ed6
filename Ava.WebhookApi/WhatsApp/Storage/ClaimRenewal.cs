using Npgsql;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>The lease renewal the claimed tables share (same columns: id, claim_token, locked_until).</summary>
internal static class ClaimRenewal
{
    /// <param name="table">A table name constant of a store, never input.</param>
    public static async Task<IReadOnlySet<long>> RenewAsync(
        NpgsqlDataSource dataSource, string table, long[] ids, Guid[] tokens, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var renew = dataSource.CreateCommand(
            $"""
            UPDATE {table} t SET locked_until = now() + $3
            FROM unnest($1::bigint[], $2::uuid[]) AS h(id, token)
            WHERE t.id = h.id AND t.claim_token = h.token
            RETURNING t.id
            """);
        renew.Parameters.Add(Ids(ids));
        renew.Parameters.Add(Uuids(tokens.Select(t => (Guid?)t)));
        renew.Parameters.Add(Value(lease));

        var renewed = new HashSet<long>();
        await using var reader = await renew.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            renewed.Add(reader.GetInt64(0));
        }

        return renewed;
    }
}
