using System.Collections.Concurrent;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>
/// Notices when the Graph API answers again for a business number after failing for it. Replies that failed
/// meanwhile each wait out their own backoff — up to minutes after a long outage — so the first accepted send after
/// a failure is the moment to send them all again, at the number's pace, instead of minutes later.
/// </summary>
internal sealed class GraphRecovery
{
    private readonly ConcurrentDictionary<string, bool> _failing = new(StringComparer.Ordinal);

    /// <returns>Whether this result ends a failure of its business number: replies waiting for it may go now.</returns>
    public bool Observe(string phoneNumberId, GraphSendResult result)
    {
        switch (result.Outcome)
        {
            // The pair rate limit is about one recipient, not the number: the others were never held back by it.
            case GraphSendOutcome.Transient when result.ErrorCode != ReplyRetryPolicy.PairRateLimitCode:
            case GraphSendOutcome.Credential when result.RefusesNumber:
                _failing.TryAdd(phoneNumberId, true);
                return false;
            case GraphSendOutcome.Accepted:
                return !_failing.IsEmpty && _failing.TryRemove(phoneNumberId, out _);
            default:
                return false;
        }
    }
}
