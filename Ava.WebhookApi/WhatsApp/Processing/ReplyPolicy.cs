using Ava.WebhookApi.WhatsApp.Model;
using Ava.WhatsApp.Contracts;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>What Ava answers to an inbound message, if anything.</summary>
internal static class ReplyPolicy
{
    public const string EchoPrefix = "[Echo] ";

    /// <param name="link">The message's LINK attempt, if it is one.</param>
    /// <returns>The reply text, or null when Ava does not answer this message.</returns>
    public static string? ReplyTo(IncomingMessage message, bool senderIsLinked, string registrationMessage, LinkAttempt? link = null)
    {
        if (message.Sender is null || message.PhoneNumberId is null)
        {
            // Without the sender's phone or user id, or Ava's number, there is nobody to answer to.
            return null;
        }

        if (link is not null)
        {
            return WhatsAppLinking.ReplyTo(link);
        }

        if (senderIsLinked)
        {
            // A linked user's text (or a media message's caption) is echoed; anything else is logged, not echoed.
            return message.Text is { } text ? Truncate(EchoPrefix + text) : null;
        }

        // Anybody else learns how to register; reactions and system notices are not things a person said to Ava.
        return message.Type is "reaction" or "system" ? null : registrationMessage;
    }

    /// <summary>
    /// Whether a responder answers this message instead of Ava (when one is configured): every message a linked user
    /// writes to Ava, whatever its type, except a LINK (Ava's own business) and system notices (nobody wrote them).
    /// </summary>
    public static bool IsTurn(IncomingMessage message, bool senderIsLinked, LinkAttempt? link) =>
        senderIsLinked && link is null && message.Type != "system" && message.Sender is not null && message.PhoneNumberId is not null;

    /// <summary>Meta takes at most 4,096 characters; a longer echo is cut, never inside a character.</summary>
    private static string Truncate(string body) => StorableText.Truncate(body, SendTextMessageRequest.MaxBodyLength);
}
