using System.Globalization;

namespace Ava.WebhookApi.WhatsApp;

/// <summary>
/// What Ava puts in a send's <c>biz_opaque_callback_data</c>, which Meta repeats in every status of the message: the
/// outbox id of the reply and a key of its own, drawn when the reply was made. A status carrying both tells Ava that
/// Meta accepted that very reply — even when the answer to the send was lost or its sender died before recording it —
/// so that it is recorded, not sent again. The id alone is not enough: after a database restore, or with two
/// deployments on one test number, the same id names an unrelated reply.
/// </summary>
/// <param name="Key">The reply's own random key (<c>outbound_replies.reference</c>).</param>
internal readonly record struct ReplyReference(long ReplyId, Guid Key)
{
    private const string Prefix = "ava-reply:";

    public string Format() => string.Create(CultureInfo.InvariantCulture, $"{Prefix}{ReplyId}:{Key:N}");

    /// <returns>The reply named; null for anything Ava did not write this way (another app's sends, none, an older form).</returns>
    public static ReplyReference? Parse(string? callbackData)
    {
        if (callbackData is null || !callbackData.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = callbackData.AsSpan(Prefix.Length);
        var colon = rest.IndexOf(':');
        return colon > 0
            && long.TryParse(rest[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            && id > 0
            && Guid.TryParseExact(rest[(colon + 1)..], "N", out var key)
                ? new ReplyReference(id, key)
                : null;
    }
}
