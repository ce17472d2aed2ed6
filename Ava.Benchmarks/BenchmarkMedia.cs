using System.Globalization;
using System.Security.Cryptography;

namespace Ava.Benchmarks;

/// <summary>
/// The media a load carries: every <see cref="Every"/>-th benchmark message is a photo (or a video, a document)
/// instead of a text, captioned with its benchmark text so that its echo still names it (audio has no caption in
/// Meta's messages, so nothing would name its answer). All carry the same
/// random bytes, which the Graph API stand-in serves as Meta does: a lookup by media id for a short-lived URL, then
/// the bytes at that URL.
/// </summary>
public sealed class BenchmarkMedia
{
    /// <summary>Benchmark message n's media id is this plus n: numeric like Meta's, apart from every business number id.</summary>
    public const long FirstMediaId = 900_000_000_000_000;

    private BenchmarkMedia(string type, int every, byte[] bytes)
    {
        Type = type;
        Every = every;
        Bytes = bytes;
        var digest = SHA256.HashData(bytes);
        Sha256Base64 = Convert.ToBase64String(digest);
        Sha256Hex = Convert.ToHexStringLower(digest);
    }

    /// <summary>image, video or document.</summary>
    public string Type { get; }

    /// <summary>One message in this many carries media.</summary>
    public int Every { get; }

    public byte[] Bytes { get; }

    /// <summary>As webhooks carry it.</summary>
    public string Sha256Base64 { get; }

    /// <summary>As the media URL's answer carries it.</summary>
    public string Sha256Hex { get; }

    public string MimeType => Type switch
    {
        "image" => "image/jpeg",
        "video" => "video/mp4",
        _ => "application/pdf",
    };

    /// <summary>The media the options ask for (<c>--media-share</c>, <c>--media-kib</c>, <c>--media-type</c>), or null for text only.</summary>
    public static BenchmarkMedia? FromArguments(BenchmarkArguments arguments)
    {
        var share = arguments.Number("media-share", 0);
        var kib = arguments.Int("media-kib", 1024, min: 1);
        var type = arguments.Text("media-type") ?? "image";
        if (type is not ("image" or "video" or "document"))
        {
            throw new BenchmarkArgumentException($"--media-type must be image, video or document, not '{type}'.");
        }

        if (share <= 0)
        {
            return null;
        }

        if (share > 1)
        {
            throw new BenchmarkArgumentException("--media-share is a fraction of the messages, at most 1.");
        }

        var bytes = new byte[kib * 1024];
        Random.Shared.NextBytes(bytes);
        return new BenchmarkMedia(type, (int)Math.Round(1 / share), bytes);
    }

    /// <summary>Whether benchmark message <paramref name="number"/> carries the media; never the probe (0), sent long before the load.</summary>
    public bool Carries(long number) => number > 0 && number % Every == 0;

    public static string MediaIdFor(long number) => (FirstMediaId + number).ToString(CultureInfo.InvariantCulture);

    /// <summary>Whether a Graph API path segment is a benchmark media id (and not a business number id).</summary>
    public static bool IsMediaId(string id) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= FirstMediaId;

    /// <summary>How the options are described in the report.</summary>
    public string Describe() => $"1 message in {Every} carries a {Bytes.Length / 1024:N0} KiB {Type} ({MimeType}), captioned";
}
