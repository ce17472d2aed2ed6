using System.Globalization;

namespace Ava.WebhookApi.WhatsApp;

/// <summary>
/// What Ava puts in a send's <c>biz_opaque_callback_data</c>, which Meta repeats in every status of the message:
/// the outbox id of the reply. A status naming a reply tells Ava that Meta accepted it — even when the answer to
/// the send was lost or its sender died before recording it — so that the reply is recorded, not sent again.
/// </summary>
internal static class ReplyReference
{
    private const string Prefix = "ava-reply:";

    public static string Format(long replyId) => Prefix + replyId.ToString(CultureInfo.InvariantCulture);

    /// <returns>The reply's outbox id; null for anything Ava did not write (another app's sends, or none).</returns>
    public static long? Parse(string? callbackData) =>
        callbackData is not null
        && callbackData.StartsWith(Prefix, StringComparison.Ordinal)
        && long.TryParse(callbackData.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
        && id > 0
            ? id
            : null;
}
