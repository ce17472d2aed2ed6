using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace Ava.WhatsAppSimulator;

/// <summary>Meta's two steps to a customer's media: the URL lookup by media id, then the download from that URL.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MediaStage>))]
public enum MediaStage
{
    [JsonStringEnumMemberName("url")]
    Url,

    [JsonStringEnumMemberName("download")]
    Download,
}

/// <summary>Media a simulated customer sent: what the upload answers, and what a media message carries.</summary>
/// <param name="Sha256">The SHA-256 of the bytes, base64, as Meta's webhooks carry it (the URL lookup answers it in hex).</param>
public sealed record UploadedMedia(string Id, string MimeType, string Sha256, long FileSize);

/// <summary>
/// What to answer instead of the usual, for the next <see cref="Count"/> requests of one stage for one media (or any,
/// when <see cref="MediaId"/> is null): an <see cref="HttpStatus"/> other than 200 (with Meta's error JSON at the URL
/// stage), after <see cref="DelaySeconds"/> if given; with 200, only the delay, or — <see cref="Corrupt"/>, at the
/// download stage — other bytes of the same length, as a download damaged on the way would be.
/// </summary>
public sealed record MediaFailure(
    MediaStage Stage,
    string? MediaId = null,
    int Count = 1,
    int HttpStatus = 200,
    int? Code = null,
    string? Title = null,
    double? DelaySeconds = null,
    bool Corrupt = false);

/// <summary>A URL lookup or a download Ava made, as a test or the chat page sees it.</summary>
/// <param name="ErrorCode">Meta's error code, when the answer was a Graph error.</param>
/// <param name="Bytes">At the download stage, how many bytes were served (all of them, for a complete download).</param>
public sealed record RecordedMediaRequest(
    string MediaId, MediaStage Stage, int HttpStatus, DateTimeOffset At, int? ErrorCode = null, long? Bytes = null);

/// <summary>Media as the simulator keeps it: the bytes and what Meta says about them.</summary>
/// <param name="urlLifetime">How long its download URLs live, when not the simulator's default.</param>
public sealed class StoredMedia(string id, string mimeType, byte[] bytes, DateTimeOffset uploadedAt, TimeSpan? urlLifetime)
{
    private readonly byte[] _sha256 = SHA256.HashData(bytes);

    public string Id => id;

    public string MimeType => mimeType;

    public ReadOnlyMemory<byte> Bytes => bytes;

    public DateTimeOffset UploadedAt => uploadedAt;

    public TimeSpan? UrlLifetime => urlLifetime;

    /// <summary>As the webhook's media object carries it.</summary>
    public string Sha256Base64 => Convert.ToBase64String(_sha256);

    /// <summary>As the URL lookup answers it.</summary>
    public string Sha256Hex => Convert.ToHexStringLower(_sha256);

    public UploadedMedia Describe() => new(id, mimeType, Sha256Base64, bytes.LongLength);
}

/// <summary>The media customers sent, the download URLs handed out for it, and what Ava asked for.</summary>
public sealed class MediaState(TimeProvider clock)
{
    /// <summary>How long Meta keeps a customer's media id after the message.</summary>
    public static readonly TimeSpan IdLifetime = TimeSpan.FromDays(7);

    private readonly ConcurrentDictionary<string, StoredMedia> _media = new(StringComparer.Ordinal);

    /// <summary>Ids that once named media: Ava's requests for them are still media requests, answered as Meta answers a forgotten id.</summary>
    private readonly ConcurrentDictionary<string, bool> _forgotten = new(StringComparer.Ordinal);

    private readonly ConcurrentQueue<RecordedMediaRequest> _requests = new();
    private readonly List<MediaFailure> _failures = [];

    /// <summary>Signs the download URLs, so that a URL cannot be made up or have its expiry moved; new for every run.</summary>
    private readonly byte[] _urlKey = RandomNumberGenerator.GetBytes(32);

    public IReadOnlyList<RecordedMediaRequest> Requests => [.. _requests];

    /// <param name="id">The media id to use; null for a new one, digits like Meta's.</param>
    public StoredMedia Store(string? id, string mimeType, byte[] bytes, TimeSpan? urlLifetime)
    {
        var media = new StoredMedia(id ?? NewId(), mimeType, bytes, clock.GetUtcNow(), urlLifetime);
        _media[media.Id] = media;
        _forgotten.TryRemove(media.Id, out _);
        return media;
    }

    /// <returns>The media, or null when the id names none or names media Meta has forgotten.</returns>
    public StoredMedia? Find(string id)
    {
        if (!_media.TryGetValue(id, out var media))
        {
            return null;
        }

        if (clock.GetUtcNow() - media.UploadedAt < IdLifetime)
        {
            return media;
        }

        Forget(id);
        return null;
    }

    /// <summary>Whether the id names media, known or forgotten: a Graph lookup of it is a media lookup.</summary>
    public bool IsMediaId(string id) => _media.ContainsKey(id) || _forgotten.ContainsKey(id);

    /// <summary>Makes the id unknown from now on, as Meta forgets a media id after <see cref="IdLifetime"/>.</summary>
    /// <returns>Whether the id named media.</returns>
    public bool Forget(string id)
    {
        if (!_media.TryRemove(id, out _))
        {
            return _forgotten.ContainsKey(id);
        }

        _forgotten[id] = true;
        return true;
    }

    public void Record(string mediaId, MediaStage stage, int httpStatus, int? errorCode = null, long? bytes = null) =>
        _requests.Enqueue(new RecordedMediaRequest(mediaId, stage, httpStatus, clock.GetUtcNow(), errorCode, bytes));

    public void Inject(MediaFailure failure)
    {
        lock (_failures)
        {
            _failures.Add(failure);
        }
    }

    /// <summary>Takes one injected failure that applies to this stage of this media, if any is left.</summary>
    public MediaFailure? TakeFailure(string mediaId, MediaStage stage)
    {
        lock (_failures)
        {
            var index = _failures.FindIndex(f => f.Stage == stage && (f.MediaId is null || f.MediaId == mediaId));
            if (index < 0)
            {
                return null;
            }

            var failure = _failures[index];
            if (failure.Count <= 1)
            {
                _failures.RemoveAt(index);
            }
            else
            {
                _failures[index] = failure with { Count = failure.Count - 1 };
            }

            return failure;
        }
    }

    /// <summary>The opaque part of a download URL: which media, until when, signed.</summary>
    public string UrlToken(StoredMedia media, DateTimeOffset expiresAt)
    {
        var payload = Encoding.UTF8.GetBytes(
            string.Create(CultureInfo.InvariantCulture, $"{expiresAt.ToUnixTimeMilliseconds()}:{media.Id}"));
        return $"{Base64Url.EncodeToString(payload)}.{Base64Url.EncodeToString(HMACSHA256.HashData(_urlKey, payload))}";
    }

    /// <returns>Whether the token is one this simulator made (whatever its expiry), with the media and expiry it names.</returns>
    public bool TryReadUrlToken(string token, out string mediaId, out DateTimeOffset expiresAt)
    {
        mediaId = "";
        expiresAt = default;
        var parts = token.Split('.');
        if (parts.Length != 2)
        {
            return false;
        }

        byte[] payload;
        byte[] signature;
        try
        {
            payload = Base64Url.DecodeFromChars(parts[0]);
            signature = Base64Url.DecodeFromChars(parts[1]);
        }
        catch (FormatException)
        {
            return false;
        }

        if (!CryptographicOperations.FixedTimeEquals(signature, HMACSHA256.HashData(_urlKey, payload)))
        {
            return false;
        }

        var text = Encoding.UTF8.GetString(payload);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || !long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var expiresAtMilliseconds))
        {
            return false;
        }

        mediaId = text[(colon + 1)..];
        expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(expiresAtMilliseconds);
        return true;
    }

    /// <summary>A media id like Meta's: 16 digits.</summary>
    private static string NewId() =>
        RandomNumberGenerator.GetInt32(1, 10).ToString(CultureInfo.InvariantCulture) + RandomNumberGenerator.GetString("0123456789", 15);
}
