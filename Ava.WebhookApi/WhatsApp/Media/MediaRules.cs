using System.Net;

namespace Ava.WebhookApi.WhatsApp.Media;

/// <summary>
/// What Ava fetches and keeps of the media users send: Meta's size limits per type, the URLs it may fetch, and whether
/// bytes are the ones Meta described.
/// </summary>
internal static class MediaRules
{
    private const long Megabyte = 1024 * 1024;

    /// <summary>Meta's largest media: a 100 MB document.</summary>
    public const long LargestMetaLimit = 100 * Megabyte;

    /// <summary>
    /// The domains Meta serves media downloads from (<c>lookaside.fbsbx.com</c> today). A URL arrives in a response
    /// and Ava sends its access token there: anything else is never fetched.
    /// </summary>
    private static readonly string[] s_metaDomains = ["fbsbx.com", "facebook.com", "fbcdn.net", "whatsapp.net"];

    /// <summary>The most Meta lets a user send of <paramref name="type"/>; 0 for a type that carries no media.</summary>
    public static long MetaLimit(string type) => type switch
    {
        "image" => 5 * Megabyte,
        "audio" or "video" => 16 * Megabyte,
        "document" => LargestMetaLimit,
        "sticker" => 500 * 1024,
        _ => 0,
    };

    /// <summary>The most Ava keeps of a media of <paramref name="type"/>: Meta's limit, or the configured one when lower.</summary>
    public static long MaxBytes(string type, long configured) => Math.Min(MetaLimit(type), configured);

    /// <summary>
    /// Whether Ava may fetch <paramref name="url"/> with its access token: https on Meta's hosts; with
    /// <paramref name="allowLoopbackHttp"/> (a simulator on this machine), http or https to this machine too.
    /// </summary>
    public static bool IsFetchable(Uri? url, bool allowLoopbackHttp)
    {
        if (url is not { IsAbsoluteUri: true } || !string.IsNullOrEmpty(url.UserInfo))
        {
            return false;
        }

        if (allowLoopbackHttp && url.Scheme is "http" or "https" && IsLoopback(url))
        {
            return true;
        }

        var host = url.IdnHost.TrimEnd('.').ToLowerInvariant();
        return url.Scheme == Uri.UriSchemeHttps
            && url.IsDefaultPort
            && s_metaDomains.Any(domain => host == domain || host.EndsWith("." + domain, StringComparison.Ordinal));
    }

    private static bool IsLoopback(Uri url) =>
        url.IsLoopback || (IPAddress.TryParse(url.IdnHost.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
