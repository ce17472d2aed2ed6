using Npgsql;

namespace Ava.Data.Media;

/// <summary>
/// Where the bytes of kept media live. Postgres by default (<see cref="PostgresMediaStore"/>); an object store can take
/// its place behind this seam (see docs/deploy.md). A write joins the transaction that records the media as stored, so
/// that media is stored once or not at all: Postgres writes its chunks in it; an object store would put its object
/// first, under a key the media's id names, and let the transaction record it.
/// </summary>
public interface IMediaStore
{
    /// <summary>Writes <paramref name="content"/> (read to its end) as the bytes of media <paramref name="mediaId"/>, replacing any.</summary>
    /// <returns>How many bytes were written, and in chunks of what size.</returns>
    Task<StoredContent> WriteAsync(long mediaId, Guid ownerId, Stream content, NpgsqlTransaction transaction, CancellationToken cancellationToken);
}

/// <param name="ChunkSize">Bytes per chunk, as a reader seeks by; 0 for a store that does not chunk.</param>
public sealed record StoredContent(long Size, int ChunkSize);
