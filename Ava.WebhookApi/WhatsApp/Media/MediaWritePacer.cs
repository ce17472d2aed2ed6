using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Media;

/// <summary>
/// Paces this instance's writes of media bytes into the store: one media written at a time, no faster than
/// <see cref="MediaOptions.MaxBytesPerSecond"/>. Kept in Postgres, media shares the write-ahead log with every
/// acknowledgement: a commit waits until the log is flushed up to it, media written before it included, so a burst
/// of photos would hold up the webhook's answers to Meta. Paced, media is kept a little later (it has Meta's 7 days)
/// and the answers stay fast; downloads waiting for their turn hold a temporary file, not a database connection.
/// </summary>
internal sealed class MediaWritePacer(TimeProvider clock, IOptions<MediaOptions> options)
{
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _writer = new(1, 1);
    private long _nextFree = long.MinValue;

    /// <summary>Waits for this instance's one media write; dispose the result when the write's transaction has ended.</summary>
    public async Task<IDisposable> WaitForTurnAsync(CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken);
        return new Turn(_writer);
    }

    /// <summary><paramref name="content"/>, read no faster than the rate allows (all downloads of the instance together).</summary>
    public Stream Pace(Stream content) => options.Value.MaxBytesPerSecond > 0 ? new PacedStream(content, this) : content;

    /// <summary>Waits until <paramref name="bytes"/> more fit in the rate: each read reserves its share of time, in turn.</summary>
    private async ValueTask TakeAsync(int bytes, CancellationToken cancellationToken)
    {
        if (bytes <= 0)
        {
            return;
        }

        var share = (long)((double)bytes / options.Value.MaxBytesPerSecond * clock.TimestampFrequency);
        long start;
        var now = clock.GetTimestamp();
        lock (_lock)
        {
            start = Math.Max(now, _nextFree);
            _nextFree = start + share;
        }

        var wait = clock.GetElapsedTime(now, start);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, clock, cancellationToken);
        }
    }

    private sealed class Turn(SemaphoreSlim writer) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                writer.Release();
            }
        }
    }

    /// <summary>A read-only stream that asks the rate for each read's bytes before handing them on.</summary>
    private sealed class PacedStream(Stream inner, MediaWritePacer rate) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            await rate.TakeAsync(read, cancellationToken);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Media is paced asynchronously.");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
