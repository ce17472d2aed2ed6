using System.Globalization;
using Ava.WebhookApi.WhatsApp.Sending;
using Ava.WebhookApi.WhatsApp.Storage;

namespace Ava.WebhookApi.WhatsApp.Replay;

/// <summary>
/// Which failed replies and turns may go again: those whose customer-service window is still open. After it Meta
/// refuses anything but a template, so such a reply (or a turn, whose answer could not be sent) is refused here with
/// Meta's own reason (131047) instead of being sent blind and failing the same way.
/// </summary>
internal static class ReplayPolicy
{
    /// <returns>The replies to re-queue, and the refusals of the others.</returns>
    public static (List<long> Requeue, List<ReplyRefusal> Refused) Decide(IEnumerable<FailedReply> replies, DateTimeOffset now) =>
        Decide(replies.Select(r => (r.Id, r.ExpiresAt)), "reply", now);

    /// <returns>The turns to ask the responder about again, and the refusals of the others.</returns>
    public static (List<long> Requeue, List<ReplyRefusal> Refused) Decide(IEnumerable<FailedTurn> turns, DateTimeOffset now) =>
        Decide(turns.Select(t => (t.Id, t.ExpiresAt)), "turn", now);

    private static (List<long> Requeue, List<ReplyRefusal> Refused) Decide(IEnumerable<(long Id, DateTimeOffset ExpiresAt)> replies, string what, DateTimeOffset now)
    {
        var requeue = new List<long>();
        var refused = new List<ReplyRefusal>();
        foreach (var reply in replies)
        {
            if (ReplyRetryPolicy.IsWindowOpen(reply.ExpiresAt, now))
            {
                requeue.Add(reply.Id);
            }
            else
            {
                refused.Add(new ReplyRefusal(
                    reply.Id,
                    ReplyRetryPolicy.WindowClosedCode,
                    ReplyRetryPolicy.WindowClosedTitle,
                    string.Create(
                        CultureInfo.InvariantCulture,
                        $"The 24-hour customer service window of the message this {what} answers closed at {reply.ExpiresAt:u}; Meta would refuse it.")));
            }
        }

        requeue.Sort();
        refused.Sort((a, b) => a.Id.CompareTo(b.Id));
        return (requeue, refused);
    }
}
