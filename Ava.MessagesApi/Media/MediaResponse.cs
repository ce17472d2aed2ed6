using System.Text.Json.Serialization;
using Ava.Data.Media;

namespace Ava.MessagesApi.Media;

/// <summary>The photo, voice note, video, document or sticker a message carries, as its history item shows it.</summary>
/// <param name="Id">The id to read its bytes by, <c>GET /messages/{id}/media</c>: the message's own id.</param>
/// <param name="Type">image, audio, video, document or sticker.</param>
/// <param name="Size">Bytes kept; for media too large to keep, the size Meta declared; null while not known.</param>
/// <param name="FileName">A document's file name, as the sender's phone named it.</param>
/// <param name="Sha256">The SHA-256 of the bytes in lowercase hex (see <see cref="MediaSha256"/>), which is also their ETag.</param>
/// <param name="Status">Only <c>stored</c> media can be read; <c>pending</c> may still become stored.</param>
public sealed record MediaResponse(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("mime_type")] string? MimeType,
    [property: JsonPropertyName("size")] long? Size,
    [property: JsonPropertyName("file_name")] string? FileName,
    [property: JsonPropertyName("caption")] string? Caption,
    [property: JsonPropertyName("sha256")] string? Sha256,
    [property: JsonPropertyName("status")] MediaStatus Status)
{
    public static MediaResponse Of(Guid messageId, MediaMetadata media) =>
        new(messageId, media.Type, media.MimeType, media.Size, media.FileName, media.Caption, media.Sha256, media.Status);
}
