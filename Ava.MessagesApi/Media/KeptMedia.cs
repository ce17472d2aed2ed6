using Ava.Data.Media;
using Ava.MessagesApi.Data;
using Npgsql;

namespace Ava.MessagesApi.Media;

/// <summary>What the media of a message is, as its owner may read it: enough to answer, or to stream its bytes.</summary>
/// <param name="Id">Ava's id of the media, which its chunks are kept under.</param>
/// <param name="Sha256">Meta's SHA-256 in lowercase hex (see <see cref="MediaSha256"/>).</param>
/// <param name="Size">Bytes kept (for <see cref="MediaStatus.Stored"/>).</param>
/// <param name="ChunkSize">Bytes per chunk of the kept content; the last may hold fewer.</param>
/// <param name="ChunksWhole">
/// Whether the kept chunks are exactly the bytes <paramref name="Size"/> says: every chunk from the first to the last
/// there, each as long as the chunk size makes it. Only stored media can be whole.
/// </param>
internal sealed record KeptMedia(
    long Id,
    string Type,
    string? MimeType,
    string? FileName,
    string? Sha256,
    MediaStatus Status,
    long? Size,
    int? ChunkSize,
    DateTimeOffset? StoredAt,
    bool ChunksWhole)
{
    /// <summary>
    /// The media of a message and whether its chunks are whole, in one round trip as the caller. Chunks are counted
    /// and measured, not read: <c>octet_length</c> of a value kept out of line reads its length, not its bytes. The user
    /// filters stand on their own as well as behind row-level security.
    /// </summary>
    private const string FindSql = """
        SELECT f.id, f.type, f.mime_type, f.file_name, f.sha256, f.status, f.size, f.chunk_size, f.stored_at,
               f.status = 'stored' AND f.size >= 0 AND f.chunk_size > 0 AND (
                   SELECT count(*) = greatest(1, (f.size + f.chunk_size - 1) / f.chunk_size)
                      AND coalesce(bool_and(c.seq >= 0
                          AND c.seq::bigint * f.chunk_size < greatest(f.size, 1)
                          AND octet_length(c.data) = least(f.chunk_size, f.size - c.seq::bigint * f.chunk_size)), false)
                   FROM media_chunks c
                   WHERE c.media_id = f.id AND c.user_id = f.user_id)
        FROM media_files f
        WHERE f.message_id = $1 AND f.user_id = $2
        """;

    /// <returns>
    /// The media of the caller's message <paramref name="messageId"/>; null when the caller has no such message, or it
    /// carries no media — which of the two is not told, so that nobody learns of another user's messages.
    /// </returns>
    public static async Task<KeptMedia?> FindAsync(UserDataBatches userData, Guid userId, Guid messageId, CancellationToken cancellationToken)
    {
        await using var batch = userData.Create(userId);
        var query = batch.Add(FindSql);
        query.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = messageId });
        query.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = userId });

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new KeptMedia(
            reader.GetInt64(0),
            reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            MediaSha256.ToHex(reader.IsDBNull(4) ? null : reader.GetString(4)),
            reader.GetFieldValue<MediaStatus>(5),
            reader.IsDBNull(6) ? null : reader.GetInt64(6),
            reader.IsDBNull(7) ? null : reader.GetInt32(7),
            reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8),
            !reader.IsDBNull(9) && reader.GetBoolean(9));
    }
}
