using Ava.Data.Messages;
using Ava.Data.WhatsApp;
using Ava.WebhookApi.WhatsApp.Model;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>
/// The rows new messages leave in a plan: a linked user's message gets its line in their history, with the media to
/// keep and the turn for the responder; Ava's reply goes to the outbox, with a line of its own for a linked user. Each
/// is dated so that a history reads in the order things happened, even when Meta's clock runs ahead of Ava's.
/// </summary>
internal sealed class MessageRows(PlanningRules rules, DateTimeOffset now)
{
    /// <summary>How long Meta keeps a media id of a webhook working.</summary>
    public static readonly TimeSpan MediaIdLifetime = TimeSpan.FromDays(7);

    public List<HistoryRow> History { get; } = [];

    public List<ReplyRow> Replies { get; } = [];

    public List<TurnRow> Turns { get; } = [];

    public List<MediaRow> Media { get; } = [];

    /// <param name="deliveryId">The delivery that carried it: turns of one user written in the same second go in the order their deliveries came.</param>
    /// <param name="traceParent">The trace of the delivery's processing, which the work after it continues.</param>
    /// <param name="userId">The sender's linked user; null for a stranger, who has no history.</param>
    /// <param name="isTurn">Whether the responder answers the message instead of Ava.</param>
    /// <param name="reply">Ava's own answer, if any.</param>
    public void Add(IncomingMessage message, long deliveryId, string? traceParent, Guid? userId, bool isTurn, string? reply)
    {
        var writtenAt = message.SentAt is { } sentAt && sentAt < now ? sentAt : now;

        Guid? replyMessageId = null;
        if (userId is { } user)
        {
            var receivedAt = message.SentAt ?? now;
            var line = new HistoryRow(Guid.CreateVersion7(receivedAt), user, MessageRole.User, message.Content, receivedAt, message.Wamid);
            History.Add(line);
            if (message.Media is { } attached)
            {
                Media.Add(new MediaRow(line.Id, user, message.Wamid, attached, writtenAt + MediaIdLifetime, traceParent));
            }

            if (isTurn)
            {
                Turns.Add(new TurnRow(
                    message.Wamid, deliveryId, user, line.Id, message.PhoneNumberId!, message.FromPhone, message.FromUserId, message.Type, message.Content,
                    writtenAt, writtenAt + rules.ReplyWindow, traceParent));
            }

            if (reply is not null)
            {
                // After the user's message even when Meta's clock runs ahead of ours.
                var repliedAt = now > receivedAt ? now : receivedAt.AddTicks(10);
                var assistant = new HistoryRow(
                    Guid.CreateVersion7(repliedAt), user, MessageRole.Assistant, reply, repliedAt, ExternalId: null, DeliveryStatus.Pending);
                History.Add(assistant);
                replyMessageId = assistant.Id;
            }
        }

        if (reply is not null)
        {
            Replies.Add(new ReplyRow(
                message.Wamid, userId, replyMessageId, message.PhoneNumberId!, message.FromPhone, reply,
                writtenAt + rules.ReplyWindow, traceParent, message.FromUserId));
        }
    }
}
