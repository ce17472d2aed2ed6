using Ava.Data.Media;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Model;
using Npgsql;
using NpgsqlTypes;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>Media held by this instance's downloader under <paramref name="Token"/>.</summary>
/// <param name="Sha256">The SHA-256 Meta gave in the webhook.</param>
/// <param name="Attempts">Failed downloads so far.</param>
/// <param name="ExpiresAt">When Meta's media id stops working.</param>
internal sealed record ClaimedMedia(
    long Id,
    Guid Token,
    Guid UserId,
    string InboundWamid,
    string MetaMediaId,
    string Type,
    string? MimeType,
    string? Sha256,
    int Attempts,
    DateTimeOffset ExpiresAt,
    string? TraceParent) : IClaimedRow;

/// <summary>How a download ended for now: kept, given up on (failed or too large), or to be tried again.</summary>
/// <param name="RetryIn">For <see cref="MediaStatus.Pending"/>: when to try again.</param>
/// <param name="Attempted">Whether it counts as a failed download (an outage of Ava's own database does not).</param>
/// <param name="Size">For <see cref="MediaStatus.TooLarge"/>: the size Meta declared.</param>
internal sealed record MediaOutcome(MediaStatus Status, string? Error, TimeSpan? RetryIn = null, bool Attempted = true, long? Size = null, string? MimeType = null);

/// <summary>
/// The SQL of <c>media_files</c>: the download stage's queue. Media is recorded with the message that carries it;
/// the downloader claims it under a claim token and a lease, and every write that ends or releases a download matches
/// that token — so that of two instances that downloaded the same media, one records it.
/// </summary>
internal static class MediaTable
{
    public const string Name = "media_files";

    public static NpgsqlBatchCommand Insert(IReadOnlyList<MediaRow> media) => Command(
        """
        INSERT INTO media_files (message_id, user_id, inbound_wamid, meta_media_id, type, mime_type, sha256, file_name, caption, voice, expires_at, trace_parent)
        SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::boolean[], $11::timestamptz[], $12::text[])
        ON CONFLICT (message_id) DO NOTHING
        """,
        Uuids(media.Select(m => (Guid?)m.MessageId)),
        Uuids(media.Select(m => (Guid?)m.UserId)),
        Texts(media.Select(m => m.InboundWamid)),
        Texts(media.Select(m => m.Media.MetaMediaId)),
        Texts(media.Select(m => m.Media.Type)),
        Texts(media.Select(m => m.Media.MimeType)),
        Texts(media.Select(m => m.Media.Sha256)),
        Texts(media.Select(m => m.Media.FileName)),
        Texts(media.Select(m => m.Media.Caption)),
        new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Boolean, Value = media.Select(m => m.Media.Voice).ToArray() },
        Times(media.Select(m => (DateTimeOffset?)m.ExpiresAt)),
        Texts(media.Select(m => m.TraceParent)));

    /// <summary>Claims up to <paramref name="limit"/> due downloads, longest-waiting first (see <see cref="LeasedTable.Claim"/>).</summary>
    public static async Task<List<ClaimedMedia>> ClaimAsync(
        NpgsqlDataSource dataSource, Guid token, int limit, TimeSpan lease, bool takeOverExpired, CancellationToken cancellationToken)
    {
        await using var claim = LeasedTable.Claim(
            dataSource,
            Name,
            due: "c.status = 'pending' AND c.next_attempt_at <= now()",
            order: "c.next_attempt_at, c.id",
            returning: "t.id, t.user_id, t.inbound_wamid, t.meta_media_id, t.type, t.mime_type, t.sha256, t.attempts, t.expires_at, t.trace_parent",
            token,
            lease,
            limit,
            takeOverExpired,
            // A download takes seconds while it stays pending: moved past its lease, it is out of every sweep's range.
            alsoSet: "next_attempt_at = now() + $2");

        var claimed = new List<ClaimedMedia>();
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new ClaimedMedia(
                reader.GetInt64(0),
                token,
                reader.GetGuid(1),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.GetInt32(7),
                reader.GetFieldValue<DateTimeOffset>(8),
                reader.IsDBNull(9) ? null : reader.GetString(9)));
        }

        return claimed;
    }

    private static readonly string s_ofMessageSql = $"SELECT {MediaMetadata.Columns("f")} FROM media_files f WHERE f.message_id = $1";

    /// <summary>The media a message carries, as it stands now; null for a message without media.</summary>
    public static async Task<MediaMetadata?> OfMessageAsync(NpgsqlDataSource dataSource, Guid messageId, CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand(s_ofMessageSql);
        select.Parameters.Add(Value(messageId));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? MediaMetadata.Read(reader, 0) : null;
    }

    /// <summary>Records the media as stored, in the transaction that wrote its bytes — only while the claim still holds it.</summary>
    /// <returns>Whether it did: false when another instance took the download over (roll the bytes back).</returns>
    public static async Task<bool> MarkStoredAsync(
        NpgsqlTransaction transaction, ClaimedMedia media, StoredContent content, string? mimeType, CancellationToken cancellationToken)
    {
        await using var stored = new NpgsqlCommand(
            """
            UPDATE media_files
            SET status = 'stored', size = $3, chunk_size = $4, mime_type = coalesce($5, mime_type), stored_at = now(), error = NULL,
                claim_token = NULL, locked_until = NULL
            WHERE id = $1 AND claim_token = $2 AND status = 'pending'
            """,
            transaction.Connection,
            transaction);
        stored.Parameters.Add(Value(media.Id));
        stored.Parameters.Add(Value(media.Token));
        stored.Parameters.Add(Value(content.Size));
        stored.Parameters.Add(Value(content.ChunkSize));
        stored.Parameters.Add(Text(mimeType));
        return await stored.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Records a download that did not store the media: failed, too large, or to be tried again — only while the claim holds it.</summary>
    public static async Task RecordAsync(NpgsqlDataSource dataSource, ClaimedMedia media, MediaOutcome outcome, CancellationToken cancellationToken)
    {
        await using var record = dataSource.CreateCommand(
            """
            UPDATE media_files
            SET status = $3, error = coalesce($4, error), next_attempt_at = now() + coalesce($5, interval '0'), attempts = attempts + $6,
                size = coalesce($7, size), mime_type = coalesce($8, mime_type), claim_token = NULL, locked_until = NULL
            WHERE id = $1 AND claim_token = $2
            """);
        record.Parameters.Add(Value(media.Id));
        record.Parameters.Add(Value(media.Token));
        record.Parameters.Add(Value(outcome.Status));
        record.Parameters.Add(Text(outcome.Error));
        record.Parameters.Add(Value(outcome.RetryIn));
        record.Parameters.Add(Value(outcome.Attempted ? 1 : 0));
        record.Parameters.Add(Value(outcome.Size));
        record.Parameters.Add(Text(outcome.MimeType));
        await record.ExecuteNonQueryAsync(cancellationToken);
    }
}
