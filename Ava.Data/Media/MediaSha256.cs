namespace Ava.Data.Media;

/// <summary>
/// The SHA-256 Meta gives for media, which comes in two forms: base64 in webhooks, lowercase or uppercase hex from the
/// media URL's answer. Either is the same digest. Ava shows it in one form, lowercase hex as <c>sha256sum</c> prints
/// it, and checks downloaded bytes against whichever form was given.
/// </summary>
public static class MediaSha256
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

    /// <summary>Whether bytes with this digest are what Meta said; nothing given is nothing to check.</summary>
    public static bool Matches(string? given, ReadOnlySpan<byte> digest) =>
        string.IsNullOrWhiteSpace(given) || ToHex(given) == Convert.ToHexStringLower(digest);
}
