using System.Buffers;
using Ava.MessagesApi.Data;
using Npgsql;

namespace Ava.MessagesApi.Media;

/// <summary>
/// The bytes of stored media as a seekable, read-only stream over its rows of <c>media_chunks</c>. A read fetches the
/// one chunk that holds the position — found by the chunk size, so a range reads only the chunks it spans — in a round
/// trip of its own as the owner (see <see cref="UserDataBatches"/>): at most one chunk is in memory, and no connection
/// or transaction is held while a slow client takes its time. Kept chunks do not change once the media is stored.
/// </summary>
internal sealed class MediaChunkStream : Stream
{
    private const string ChunkSql = "SELECT data FROM media_chunks WHERE media_id = $1 AND seq = $2 AND user_id = $3";

    private readonly UserDataBatches _userData;
    private readonly Guid _ownerId;
    private readonly long _mediaId;
    private readonly long _length;
    private readonly int _chunkSize;

    /// <summary>The bytes of chunk <see cref="_chunkSeq"/> (-1: none yet), rented on the first read.</summary>
    private byte[]? _chunk;
    private int _chunkSeq = -1;
    private int _chunkLength;
    private long _position;
    private bool _disposed;

    /// <param name="length">The media's size, which its chunks were checked to add up to.</param>
    public MediaChunkStream(UserDataBatches userData, Guid ownerId, long mediaId, long length, int chunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        (_userData, _ownerId, _mediaId, _length, _chunkSize) = (userData, ownerId, mediaId, length, chunkSize);
    }

    public override bool CanRead => !_disposed;

    public override bool CanSeek => !_disposed;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        if (target < 0)
        {
            throw new IOException("A position before the start of the media.");
        }

        return _position = target;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty || _position >= _length)
        {
            return 0;
        }

        var seq = checked((int)(_position / _chunkSize));
        if (seq != _chunkSeq)
        {
            await LoadAsync(seq, cancellationToken);
        }

        var offset = (int)(_position - (long)seq * _chunkSize);
        var count = Math.Min(buffer.Length, _chunkLength - offset);
        _chunk.AsMemory(offset, count).CopyTo(buffer);
        _position += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>For callers that only read synchronously; ASP.NET Core reads a response's stream asynchronously.</summary>
    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (!_disposed && _chunk is not null)
        {
            ArrayPool<byte>.Shared.Return(_chunk);
            _chunk = null;
        }

        _disposed = true;
        base.Dispose(disposing);
    }

    /// <summary>
    /// Reads chunk <paramref name="seq"/>, which must be exactly as long as the size and the chunk size make it: the
    /// chunks were checked before streaming began, so a chunk gone or of another length is a fault, and the response
    /// is cut off rather than its bytes made up.
    /// </summary>
    private async Task LoadAsync(int seq, CancellationToken cancellationToken)
    {
        var expected = (int)Math.Min(_chunkSize, _length - (long)seq * _chunkSize);
        _chunk ??= ArrayPool<byte>.Shared.Rent(_chunkSize);
        _chunkSeq = -1;

        await using var batch = _userData.Create(_ownerId);
        var query = batch.Add(ChunkSql);
        query.Parameters.Add(new NpgsqlParameter<long> { TypedValue = _mediaId });
        query.Parameters.Add(new NpgsqlParameter<int> { TypedValue = seq });
        query.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = _ownerId });

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidDataException($"Chunk {seq} of media {_mediaId} is gone.");
        }

        // The row is read whole by now: these copy from Npgsql's buffer, the first only asks for the length.
        var stored = reader.GetBytes(0, 0, null, 0, 0);
        if (stored != expected)
        {
            throw new InvalidDataException($"Chunk {seq} of media {_mediaId} holds {stored} bytes where {expected} were expected.");
        }

        reader.GetBytes(0, 0, _chunk, 0, expected);
        (_chunkSeq, _chunkLength) = (seq, expected);
    }
}
