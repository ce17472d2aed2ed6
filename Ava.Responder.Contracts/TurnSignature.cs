using System.Text;
using Ava.WhatsApp.Contracts;

namespace Ava.Responder.Contracts;

/// <summary>
/// <c>X-Ava-Signature-256</c>: <c>sha256=</c> and the lowercase hex HMAC-SHA256 of the raw request body, keyed with
/// the responder secret — the scheme of Meta's own <see cref="WebhookSignature"/>, so a responder checks Ava as Ava
/// checks Meta.
/// </summary>
public static class TurnSignature
{
    public const string HeaderName = "X-Ava-Signature-256";

    /// <summary>The turn's id, repeated on every call for the same turn.</summary>
    public const string IdempotencyKeyHeaderName = "Idempotency-Key";

    public static string Compute(string secret, ReadOnlySpan<byte> body) => WebhookSignature.Compute(secret, body);

    /// <summary>Checks a header value against the body in constant time.</summary>
    public static bool IsValid(string? headerValue, string secret, ReadOnlySpan<byte> body) =>
        WebhookSignature.IsValid(headerValue, Encoding.UTF8.GetBytes(secret), body);
}
