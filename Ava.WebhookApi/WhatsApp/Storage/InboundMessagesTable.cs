using Ava.WebhookApi.WhatsApp.Model;
using Npgsql;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>
/// The SQL of <c>inbound_messages</c>: one row per wamid ever processed, the exactly-once gate. A message Meta
/// delivers again — in a retried delivery, or to another instance at the same moment — inserts nothing, and
/// so causes nothing.
/// </summary>
internal static class InboundMessagesTable
{
    public const string Name = "inbound_messages";

    /// <param name="rows">One per wamid, in wamid order (so that two batches take the unique index's locks in the same order).</param>
    /// <returns>The wamids inserted now: the messages this transaction handles.</returns>
    public static async Task<HashSet<string>> InsertNewAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<InboundMessageRow> rows, CancellationToken cancellationToken)
    {
        var inserted = new HashSet<string>(StringComparer.Ordinal);
        if (rows.Count == 0)
        {
            return inserted;
        }

        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO inbound_messages (wamid, delivery_id, phone_number_id, from_phone, from_user_id, type, content, sent_at, user_id, from_username, from_parent_user_id)
            SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::uuid[], $10::text[], $11::text[])
            ON CONFLICT (wamid) DO NOTHING
            RETURNING wamid
            """,
            connection,
            transaction);
        insert.Parameters.Add(Texts(rows.Select(r => r.Wamid)));
        insert.Parameters.Add(Ids(rows.Select(r => r.DeliveryId)));
        insert.Parameters.Add(Texts(rows.Select(r => r.PhoneNumberId)));
        insert.Parameters.Add(Texts(rows.Select(r => r.FromPhone)));
        insert.Parameters.Add(Texts(rows.Select(r => r.FromUserId)));
        insert.Parameters.Add(Texts(rows.Select(r => r.Type)));
        insert.Parameters.Add(Texts(rows.Select(r => r.Content)));
        insert.Parameters.Add(Times(rows.Select(r => r.SentAt)));
        insert.Parameters.Add(Uuids(rows.Select(r => r.UserId)));
        insert.Parameters.Add(Texts(rows.Select(r => r.FromUsername)));
        insert.Parameters.Add(Texts(rows.Select(r => r.FromParentUserId)));

        await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            inserted.Add(reader.GetString(0));
        }

        return inserted;
    }

    /// <summary>
    /// Deletes up to <paramref name="limit"/> dedup records older than the retention period — which must outlast
    /// Meta's retries (7 days), or a late retry would be handled a second time.
    /// </summary>
    /// <returns>How many were deleted.</returns>
    public static async Task<int> PurgeAsync(NpgsqlDataSource dataSource, TimeSpan retention, int limit, CancellationToken cancellationToken)
    {
        await using var purge = dataSource.CreateCommand(
            """
            DELETE FROM inbound_messages WHERE wamid IN (
                SELECT wamid FROM inbound_messages
                WHERE processed_at < now() - $1
                ORDER BY processed_at
                LIMIT $2
                FOR UPDATE SKIP LOCKED)
            """);
        purge.Parameters.Add(Value(retention));
        purge.Parameters.Add(Value(limit));
        return await purge.ExecuteNonQueryAsync(cancellationToken);
    }
}
