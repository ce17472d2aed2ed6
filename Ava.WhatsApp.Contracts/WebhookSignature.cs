using System.Security.Cryptography;
using System.Text;

namespace Ava.WhatsApp.Contracts;

/// <summary>
/// Meta's <c>X-Hub-Signature-256</c>: <c>sha256=</c> and the lowercase hex HMAC-SHA256 of the raw body bytes, keyed
/// with the app secret. Computed on the bytes as received: re-serialised JSON would not match.
/// </summary>
public static class WebhookSignature
{
    public const string HeaderName = "X-Hub-Signature-256";

    private const string Prefix = "sha256=";

    public static string Compute(string appSecret, ReadOnlySpan<byte> body) =>
        Prefix + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(appSecret), body));

    /// <summary>Checks a header value against the body in constant time.</summary>
    public static bool IsValid(string? headerValue, ReadOnlySpan<byte> appSecretKey, ReadOnlySpan<byte> body)
    {
        if (headerValue is null
            || !headerValue.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)
            || headerValue.Length != Prefix.Length + (HMACSHA256.HashSizeInBytes * 2))
        {
            return false;
        }

        Span<byte> claimed = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (Convert.FromHexString(headerValue.AsSpan(Prefix.Length), claimed, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != claimed.Length)
        {
            return false;
        }

        Span<byte> actual = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(appSecretKey, body, actual);
        return CryptographicOperations.FixedTimeEquals(claimed, actual);
    }
}
