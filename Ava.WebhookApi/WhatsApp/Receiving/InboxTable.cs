using Npgsql;
using NpgsqlTypes;

namespace Ava.WebhookApi.WhatsApp.Receiving;

/// <summary>Writes deliveries into <c>inbound_deliveries</c>, many in one statement.</summary>
internal static class InboxTable
{
    public static async Task InsertAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        IReadOnlyList<InboundDeliveryRecord> deliveries,
        CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO inbound_deliveries (received_at, body, trace_parent)
            SELECT * FROM unnest($1::timestamptz[], $2::bytea[], $3::text[])
            """,
            connection,
            transaction);
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, Value = deliveries.Select(d => d.ReceivedAt).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea, Value = deliveries.Select(d => d.Body).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = deliveries.Select(d => d.TraceParent).ToArray() });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }
}
