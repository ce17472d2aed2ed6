using Ava.Data.Media;
using Ava.Data.Messages;
using Ava.Data.WhatsApp;
using Ava.Responder.Contracts;
using Ava.WebhookApi.WhatsApp.Model;
using Ava.WebhookApi.WhatsApp.Storage;
using Ava.WhatsApp.Contracts;

namespace Ava.WebhookApi.WhatsApp.Responding;

/// <summary>What becomes of a turn after a call of the responder.</summary>
/// <param name="Replies">The texts to send, in order: the answer's, or the fallback's.</param>
/// <param name="RetryIn">Set when the responder is to be asked again after this long.</param>
internal sealed record TurnDecision(ConversationTurnStatus Status, IReadOnlyList<string> Replies, string? Error = null, TimeSpan? RetryIn = null)
{
    public bool Retry => RetryIn is not null;
}

/// <summary>
/// Decides, without a database, what a turn comes to: the responder's answer goes out as it is; a transient failure is
/// asked again with backoff (never sooner than the responder's <c>Retry-After</c>) while the user's 24-hour window
/// stays open long enough for an answer to still reach them; a refusal, or a window about to close, ends the turn
/// with the fallback message instead — sent while the window is still open, never after.
/// </summary>
internal static class TurnPolicy
{
    /// <summary>A reply needs a moment to go once written: a turn whose window closes sooner ends with the fallback.</summary>
    public static readonly TimeSpan WindowMargin = TimeSpan.FromMinutes(1);

    /// <summary>The fallback's place among a turn's replies: before any answer a replay of the turn may bring.</summary>
    public const int FallbackIndex = -1;

    /// <returns>The decision for a turn that cannot be composed any more (its window closes); null while it can.</returns>
    public static TurnDecision? Expired(ClaimedTurn turn, DateTimeOffset now, string fallback) =>
        now >= turn.ExpiresAt ? new TurnDecision(ConversationTurnStatus.Failed, [], "the customer-service window closed before the responder answered")
        : now >= turn.ExpiresAt - WindowMargin ? Failed("the customer-service window closes before the responder can be asked again", fallback)
        : null;

    public static TurnDecision Decide(
        ClaimedTurn turn, ResponderResult result, DateTimeOffset now, TimeSpan baseDelay, TimeSpan maxDelay, string fallback, Random? random = null)
    {
        switch (result.Outcome)
        {
            case ResponderOutcome.Answered:
                return new TurnDecision(ConversationTurnStatus.Answered, result.Replies);

            case ResponderOutcome.Refused:
                return Failed(result.Error, fallback);

            default:
                var backoff = Backoff.Delay(turn.Attempts + 1, baseDelay, maxDelay, random);
                var delay = result.RetryAfter is { } asked && asked > backoff ? asked : backoff;
                return now + delay >= turn.ExpiresAt - WindowMargin
                    ? Failed($"{result.Error}; the customer-service window closes before the responder can be asked again", fallback)
                    : new TurnDecision(ConversationTurnStatus.Pending, [], result.Error, delay);
        }
    }

    /// <summary>The turn as the responder reads it: the message with its media, and the history before it.</summary>
    public static Turn Request(ClaimedTurn turn, IEnumerable<HistoryLine> history, MediaMetadata? media = null) => new(
        turn.InboundWamid,
        turn.UserId,
        "whatsapp",
        turn.PhoneNumberId,
        turn.WrittenAt,
        new TurnMessage(
            turn.MessageType,
            turn.MessageType == "text" ? turn.Content : null,
            turn.Content,
            media is null ? null : new TurnMedia(
                turn.MessageId, media.Type, media.MimeType, media.Size, media.FileName, media.Caption, media.Sha256, MediaStatusNames.NameOf(media.Status))),
        [.. history.Select(line => new HistoryEntry(
            line.Role == MessageRole.User ? HistoryRoles.User : HistoryRoles.Assistant, line.Content, line.CreatedAt))]);

    /// <summary>Whether the turn's message may carry media (a text never does: no lookup for it).</summary>
    public static bool MayCarryMedia(ClaimedTurn turn) => turn.MessageType != "text";

    /// <summary>
    /// The outbox rows and history lines of a turn's replies: each the assistant's line in the user's history, pending
    /// until sent, in the order given, after the user's message; cut at a character boundary at Meta's 4,096.
    /// </summary>
    /// <param name="firstIndex">The first reply's place in the turn (<see cref="FallbackIndex"/> for the fallback).</param>
    /// <param name="traceParent">The trace of the composing, which sending continues.</param>
    public static (List<HistoryRow> History, List<ReplyRow> Replies) Replies(
        ClaimedTurn turn, IReadOnlyList<string> texts, int firstIndex, DateTimeOffset now, string? traceParent)
    {
        var history = new List<HistoryRow>(texts.Count);
        var replies = new List<ReplyRow>(texts.Count);
        var at = now > turn.WrittenAt ? now : turn.WrittenAt.AddTicks(10);
        for (var i = 0; i < texts.Count; i++)
        {
            var body = StorableText.Truncate(StorableText.Clean(texts[i]), SendTextMessageRequest.MaxBodyLength);
            var line = new HistoryRow(Guid.CreateVersion7(at), turn.UserId, MessageRole.Assistant, body, at, ExternalId: null, DeliveryStatus.Pending);
            history.Add(line);
            replies.Add(new ReplyRow(
                InboundWamid: null, turn.UserId, line.Id, turn.PhoneNumberId, turn.ToPhone, body, turn.ExpiresAt, traceParent, turn.ToUserId,
                TurnId: turn.Id, TurnReplyIndex: firstIndex + i));
            at = at.AddTicks(10);
        }

        return (history, replies);
    }

    private static TurnDecision Failed(string? error, string fallback) =>
        new(ConversationTurnStatus.Failed, string.IsNullOrEmpty(fallback) ? [] : [fallback], error);
}
