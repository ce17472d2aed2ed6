namespace Ava.MessagesApi.Media;

/// <summary>
/// The SHA-256 Meta gave for media, in the one form the API shows: lowercase hex, as <c>sha256sum</c> prints it.
/// Meta's webhooks carry it in base64 and its media URL answers in hex; either is the same digest, checked against
/// the bytes before they were kept.
/// </summary>
internal static class MediaSha256
{
    /// <returns>The digest in lowercase hex; null when none was given, or it is neither a hex nor a base64 SHA-256.</returns>
    public static string? ToHex(string? given)
    {
        if (string.IsNullOrWhiteSpace(given))
        {
            return null;
        }

        var value = given.Trim();
        if (value.Length == 64 && value.All(char.IsAsciiHexDigit))
        {
            return value.ToLowerInvariant();
        }

        Span<byte> digest = stackalloc byte[32];
        return Convert.TryFromBase64String(value, digest, out var written) && written == digest.Length
            ? Convert.ToHexStringLower(digest)
            : null;
    }
}
