using System.Buffers;
using Npgsql;
using NpgsqlTypes;

namespace Ava.Data.Media;

/// <summary>
/// Keeps media bytes in Postgres, as rows of <c>media_chunks</c> under the owner's row-level security: no server to
/// run beside the database, backed up with the history. Streamed a chunk at a time both ways, so that a 100 MB
/// document never sits whole in memory.
/// </summary>
public sealed class PostgresMediaStore : IMediaStore
{
    /// <summary>
    /// Bytes per chunk: large enough that a 100 MB document is 400 rows, small enough that a reader seeking in a voice
    /// note reads little it does not need (and Postgres keeps each out of line, compressed no further).
    /// </summary>
    public const int ChunkSize = 256 * 1024;

    public async Task<StoredContent> WriteAsync(
        long mediaId, Guid ownerId, Stream content, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var connection = transaction.Connection!;
        await using (var clear = new NpgsqlCommand("DELETE FROM media_chunks WHERE media_id = $1", connection, transaction))
        {
            clear.Parameters.Add(new NpgsqlParameter { Value = mediaId });
            await clear.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var insert = new NpgsqlCommand("INSERT INTO media_chunks (media_id, seq, user_id, data) VALUES ($1, $2, $3, $4)", connection, transaction);
        var seq = new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer };
        var data = new NpgsqlParameter<ReadOnlyMemory<byte>> { NpgsqlDbType = NpgsqlDbType.Bytea };
        insert.Parameters.Add(new NpgsqlParameter { Value = mediaId });
        insert.Parameters.Add(seq);
        insert.Parameters.Add(new NpgsqlParameter { Value = ownerId });
        insert.Parameters.Add(data);

        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            long size = 0;
            for (var index = 0; ; index++)
            {
                var filled = await content.ReadAtLeastAsync(buffer.AsMemory(0, ChunkSize), ChunkSize, throwOnEndOfStream: false, cancellationToken);
                if (filled == 0 && index > 0)
                {
                    break;
                }

                seq.TypedValue = index;
                data.TypedValue = buffer.AsMemory(0, filled);
                await insert.ExecuteNonQueryAsync(cancellationToken);
                size += filled;
                if (filled < ChunkSize)
                {
                    break;
                }
            }

            return new StoredContent(size, ChunkSize);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
