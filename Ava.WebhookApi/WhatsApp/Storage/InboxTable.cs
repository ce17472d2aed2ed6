using Ava.Data.WhatsApp;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Model;
using Npgsql;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>A delivery held by this instance's processor under <paramref name="Token"/>.</summary>
/// <param name="Attempts">Failures so far that were not outages.</param>
internal sealed record ClaimedDelivery(long Id, Guid Token, byte[] Body, string? TraceParent, DateTimeOffset ReceivedAt, int Attempts) : IClaimedRow;

/// <summary>What became of a claimed delivery, written when its processing commits.</summary>
internal sealed record DeliveryOutcome(long Id, Guid Token, InboundOutcome Outcome, string? Error);

/// <summary>A delivery set aside as failed, for a person to look at and replay.</summary>
/// <param name="Attempts">The failures that set it aside.</param>
internal sealed record FailedDelivery(long Id, DateTimeOffset ReceivedAt, int Attempts, string? Error);

/// <summary>
/// The SQL of <c>inbound_deliveries</c>: the inbox. Deliveries are inserted many per statement; processors claim
/// them with <c>FOR UPDATE SKIP LOCKED</c> under a claim token and a lease; every write that finishes or releases a
/// claim matches its token, so a processor whose lease was taken over cannot overwrite the new holder's work.
/// </summary>
internal static class InboxTable
{
    public const string Name = "inbound_deliveries";

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
        insert.Parameters.Add(Times(deliveries.Select(d => (DateTimeOffset?)d.ReceivedAt)));
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bytea, Value = deliveries.Select(d => d.Body).ToArray() });
        insert.Parameters.Add(Texts(deliveries.Select(d => d.TraceParent)));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Inserts deliveries already claimed under <paramref name="token"/>, for this instance's processor to take
    /// straight from memory.
    /// </summary>
    public static async Task<List<ClaimedDelivery>> InsertClaimedAsync(
        NpgsqlConnection connection,
        IReadOnlyList<InboundDeliveryRecord> deliveries,
        Guid token,
        TimeSpan lease,
        CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO inbound_deliveries (received_at, body, trace_parent, claim_token, locked_until)
            SELECT d.received_at, d.body, d.trace_parent, $4, now() + $5
            FROM unnest($1::timestamptz[], $2::bytea[], $3::text[]) AS d(received_at, body, trace_parent)
            RETURNING id, body, trace_parent, received_at
            """,
            connection);
        insert.Parameters.Add(Times(deliveries.Select(d => (DateTimeOffset?)d.ReceivedAt)));
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bytea, Value = deliveries.Select(d => d.Body).ToArray() });
        insert.Parameters.Add(Texts(deliveries.Select(d => d.TraceParent)));
        insert.Parameters.Add(Value(token));
        insert.Parameters.Add(Value(lease));

        var claimed = new List<ClaimedDelivery>(deliveries.Count);
        await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new ClaimedDelivery(
                reader.GetInt64(0), token, reader.GetFieldValue<byte[]>(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3), 0));
        }

        return claimed;
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> unprocessed deliveries, oldest first, whose retry time has come (see
    /// <see cref="LeasedTable.Claim"/>).
    /// </summary>
    public static async Task<List<ClaimedDelivery>> ClaimAsync(
        NpgsqlDataSource dataSource, Guid token, int limit, TimeSpan lease, bool takeOverExpired, CancellationToken cancellationToken)
    {
        await using var claim = LeasedTable.Claim(
            dataSource, Name, due: "c.processed_at IS NULL", order: "c.id", returning: "t.id, t.body, t.trace_parent, t.received_at, t.attempts",
            token, lease, limit, takeOverExpired);

        var claimed = new List<ClaimedDelivery>(limit);
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new ClaimedDelivery(
                reader.GetInt64(0),
                token,
                reader.GetFieldValue<byte[]>(1),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.GetFieldValue<DateTimeOffset>(3),
                reader.GetInt32(4)));
        }

        claimed.Sort((a, b) => a.Id.CompareTo(b.Id));
        return claimed;
    }

    /// <summary>Marks claimed deliveries done (part of the transaction that wrote their effects).</summary>
    /// <param name="countFailure">Whether the outcome is a failure to count in <c>attempts</c> (the last one, which sets a delivery aside).</param>
    /// <returns>How many were still held by this claim; fewer means the lease was lost and the work is not ours to commit.</returns>
    public static NpgsqlBatchCommand Complete(IReadOnlyList<DeliveryOutcome> outcomes, bool countFailure = false) => Command(
        """
        UPDATE inbound_deliveries d
        SET processed_at = now(), outcome = o.outcome, error = o.error, attempts = d.attempts + $5, locked_until = NULL, claim_token = NULL
        FROM unnest($1::bigint[], $2::uuid[], $3::inbound_outcome[], $4::text[]) AS o(id, token, outcome, error)
        WHERE d.id = o.id AND d.claim_token = o.token
        """,
        Ids(outcomes.Select(o => o.Id)),
        Uuids(outcomes.Select(o => (Guid?)o.Token)),
        Enums(outcomes.Select(o => o.Outcome)),
        Texts(outcomes.Select(o => o.Error)),
        Value(countFailure ? 1 : 0));

    /// <summary>
    /// Hands claimed deliveries back, to be claimed again after <paramref name="delay"/>. A failure that is not an
    /// outage is counted (<paramref name="countFailure"/>): too many of those set a delivery aside.
    /// </summary>
    public static async Task ReleaseAsync(
        NpgsqlDataSource dataSource, IReadOnlyList<ClaimedDelivery> deliveries, TimeSpan delay, string? error, bool countFailure, CancellationToken cancellationToken)
    {
        await using var release = dataSource.CreateCommand(
            """
            UPDATE inbound_deliveries d
            SET claim_token = NULL, locked_until = now() + $3, error = coalesce($4, d.error), attempts = d.attempts + $5
            FROM unnest($1::bigint[], $2::uuid[]) AS h(id, token)
            WHERE d.id = h.id AND d.claim_token = h.token
            """);
        release.Parameters.Add(Ids(deliveries.Select(d => d.Id)));
        release.Parameters.Add(Uuids(deliveries.Select(d => (Guid?)d.Token)));
        release.Parameters.Add(Value(delay));
        release.Parameters.Add(Text(error));
        release.Parameters.Add(Value(countFailure ? 1 : 0));
        await release.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Sets deliveries aside for good after failing on their own too often, outside any batch, counting that last failure.</summary>
    public static async Task SetAsideAsync(NpgsqlDataSource dataSource, IReadOnlyList<DeliveryOutcome> outcomes, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Complete(outcomes, countFailure: true));
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The latest <paramref name="limit"/> deliveries set aside as failed, newest first.</summary>
    public static async Task<List<FailedDelivery>> ListFailedAsync(NpgsqlDataSource dataSource, int limit, CancellationToken cancellationToken)
    {
        await using var list = dataSource.CreateCommand(
            """
            SELECT id, received_at, attempts, error FROM inbound_deliveries
            WHERE outcome = 'failed'
            ORDER BY id DESC
            LIMIT $1
            """);
        list.Parameters.Add(Value(limit));

        var failed = new List<FailedDelivery>();
        await using var reader = await list.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            failed.Add(new FailedDelivery(
                reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
        }

        return failed;
    }

    /// <summary>
    /// Puts failed deliveries back in the inbox as if just received — unprocessed, unclaimed, due now, with no
    /// failures counted — for any processor's next sweep. Only deliveries that are failed at that moment change, so
    /// replaying twice, or alongside another replay, does nothing more.
    /// </summary>
    /// <param name="ids">The deliveries to replay; null for every failed one, oldest first, up to <paramref name="limit"/>.</param>
    /// <returns>The deliveries put back.</returns>
    public static async Task<List<long>> RequeueFailedAsync(NpgsqlDataSource dataSource, IReadOnlyCollection<long>? ids, int limit, CancellationToken cancellationToken)
    {
        await using var requeue = dataSource.CreateCommand(
            $"""
            UPDATE inbound_deliveries d
            SET processed_at = NULL, outcome = NULL, error = NULL, attempts = 0, claim_token = NULL, locked_until = NULL
            WHERE d.id IN (
                SELECT id FROM inbound_deliveries
                WHERE outcome = 'failed' {(ids is null ? "" : "AND id = ANY($2)")}
                ORDER BY id
                LIMIT $1
                FOR UPDATE)
            RETURNING d.id
            """);
        requeue.Parameters.Add(Value(limit));
        if (ids is not null)
        {
            requeue.Parameters.Add(Ids(ids));
        }

        var requeued = new List<long>();
        await using var reader = await requeue.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            requeued.Add(reader.GetInt64(0));
        }

        requeued.Sort();
        return requeued;
    }


    /// <summary>Deletes up to <paramref name="limit"/> finished deliveries received before the retention period.</summary>
    /// <returns>How many were deleted.</returns>
    public static async Task<int> PurgeAsync(NpgsqlDataSource dataSource, TimeSpan retention, int limit, CancellationToken cancellationToken)
    {
        await using var purge = dataSource.CreateCommand(
            """
            DELETE FROM inbound_deliveries WHERE id IN (
                SELECT id FROM inbound_deliveries
                WHERE received_at < now() - $1 AND processed_at IS NOT NULL AND outcome IS DISTINCT FROM 'failed'
                ORDER BY received_at
                LIMIT $2
                FOR UPDATE SKIP LOCKED)
            """);
        purge.Parameters.Add(Value(retention));
        purge.Parameters.Add(Value(limit));
        return await purge.ExecuteNonQueryAsync(cancellationToken);
    }
}
