using System.Data.Common;

namespace Ava.Data.Media;

/// <summary>
/// What a message's media is, as its owner's history shows it: the metadata of its <see cref="MediaFile"/>, read the
/// same way wherever a query joins it — the messages API's history, the responder's turns.
/// </summary>
/// <param name="Type">image, audio, video, document or sticker.</param>
/// <param name="Size">Bytes kept; for media too large to keep, the size Meta declared; null while not known.</param>
/// <param name="FileName">A document's file name, as the sender's phone named it.</param>
/// <param name="Sha256">The SHA-256 of the bytes in lowercase hex (see <see cref="MediaSha256"/>).</param>
public sealed record MediaMetadata(string Type, string? MimeType, long? Size, string? FileName, string? Caption, string? Sha256, MediaStatus Status)
{
    /// <summary>The columns <see cref="Read"/> reads, in its order, of <c>media_files</c> under <paramref name="alias"/>.</summary>
    public static string Columns(string alias) =>
        $"{alias}.type, {alias}.mime_type, {alias}.size, {alias}.file_name, {alias}.caption, {alias}.sha256, {alias}.status";

    /// <summary>Reads <see cref="Columns"/> from the row, starting at column <paramref name="first"/>.</summary>
    public static MediaMetadata Read(DbDataReader reader, int first) => new(
        reader.GetString(first),
        reader.IsDBNull(first + 1) ? null : reader.GetString(first + 1),
        reader.IsDBNull(first + 2) ? null : reader.GetInt64(first + 2),
        reader.IsDBNull(first + 3) ? null : reader.GetString(first + 3),
        reader.IsDBNull(first + 4) ? null : reader.GetString(first + 4),
        MediaSha256.ToHex(reader.IsDBNull(first + 5) ? null : reader.GetString(first + 5)),
        reader.GetFieldValue<MediaStatus>(first + 6));
}
