using System.Text.Json.Serialization;
using NpgsqlTypes;

namespace Ava.Data.Media;

/// <summary>
/// A photo, voice note, video, document or sticker a linked user sent: Meta's metadata from the webhook, and the
/// download stage's queue (claimed, leased, retried until Meta's media id expires). Its bytes, once kept, are the
/// rows of <see cref="MediaChunk"/>. Made in the transaction that writes the message's history line; readable by its
/// owner only.
/// </summary>
public sealed class MediaFile
{
    /// <summary>Ava's id of the media (Meta's id expires; this one does not), and its place in the download queue.</summary>
    public long Id { get; set; }

    /// <summary>The message's line in its owner's history (one media per message).</summary>
    public Guid MessageId { get; set; }

    /// <summary>The owner: the linked user who sent it.</summary>
    public Guid UserId { get; set; }

    /// <summary>The message that carried it (Meta's wamid).</summary>
    public required string InboundWamid { get; set; }

    /// <summary>Meta's media id: what the download asks for, for 7 days after the message.</summary>
    public required string MetaMediaId { get; set; }

    /// <summary>image, audio, video, document or sticker.</summary>
    public required string Type { get; set; }

    public string? MimeType { get; set; }

    /// <summary>The SHA-256 of the bytes as Meta gave it (base64 in webhooks); the download is checked against it.</summary>
    public string? Sha256 { get; set; }

    /// <summary>A document's file name, as the sender's phone named it.</summary>
    public string? FileName { get; set; }

    public string? Caption { get; set; }

    /// <summary>An audio recorded as a voice note (rather than a file sent as audio).</summary>
    public bool Voice { get; set; }

    /// <summary>Bytes kept; for media too large to keep, the size Meta declared.</summary>
    public long? Size { get; set; }

    /// <summary>Bytes per <see cref="MediaChunk"/> of the kept content (the last may hold fewer).</summary>
    public int? ChunkSize { get; set; }

    public MediaStatus Status { get; set; }

    /// <summary>Failed downloads so far.</summary>
    public int Attempts { get; set; }

    public DateTimeOffset NextAttemptAt { get; set; }

    public DateTimeOffset? LockedUntil { get; set; }

    /// <summary>The claim that holds the download (see <see cref="WhatsApp.InboundDelivery.ClaimToken"/>).</summary>
    public Guid? ClaimToken { get; set; }

    /// <summary>When Meta's media id stops working (7 days after the message): downloads are tried until then.</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Why the last download failed, or why the media ended failed or too large.</summary>
    public string? Error { get; set; }

    /// <summary>W3C traceparent of the processing that recorded the media, so that its download joins the message's trace.</summary>
    public string? TraceParent { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StoredAt { get; set; }
}

/// <summary>Where a media download stands. Stored as the Postgres enum <c>media_status</c>, and named the same in JSON.</summary>
public enum MediaStatus
{
    /// <summary>Waiting to be downloaded, or being downloaded under a claim.</summary>
    [PgName("pending")]
    [JsonStringEnumMemberName("pending")]
    Pending,

    /// <summary>Its bytes are kept, checked against Meta's SHA-256.</summary>
    [PgName("stored")]
    [JsonStringEnumMemberName("stored")]
    Stored,

    /// <summary>Meta's media id expired before a download succeeded, Meta refused it, or its bytes never matched.</summary>
    [PgName("failed")]
    [JsonStringEnumMemberName("failed")]
    Failed,

    /// <summary>Bigger than Meta allows for its type, or than Ava is configured to keep: its metadata only.</summary>
    [PgName("too_large")]
    [JsonStringEnumMemberName("too_large")]
    TooLarge,
}
