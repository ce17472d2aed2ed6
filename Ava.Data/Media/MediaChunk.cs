namespace Ava.Data.Media;

/// <summary>
/// A piece of a kept media's bytes, in order: media is written and read as a stream of these, so that neither the
/// webhook nor the messages API ever holds a whole file, and a reader seeks by chunk.
/// </summary>
public sealed class MediaChunk
{
    public long MediaId { get; set; }

    /// <summary>The chunk's place, from 0.</summary>
    public int Seq { get; set; }

    /// <summary>The owner (as in <see cref="MediaFile.UserId"/>), so that row-level security needs no join.</summary>
    public Guid UserId { get; set; }

    public required byte[] Data { get; set; }
}
