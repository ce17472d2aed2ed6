using Ava.WebhookApi.WhatsApp.Storage;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>
/// What a send's result means for the reply. Accepted: sent. Refused for good: failed with Meta's code and title.
/// Not accepted this time: tried again after an exponential, jittered delay, never sooner than Meta's Retry-After —
/// for as long as the user's 24-hour customer-service window is open. Retries are budgeted by that window, not by
/// a count, so that an outage of any length ends in the reply being sent, not failed. A refused access token is
/// nobody's attempt: the reply is handed back as it was, and waits while sending is paused.
/// </summary>
internal static class ReplyRetryPolicy
{
    /// <summary>Meta's code for a message outside the customer-service window.</summary>
    public const int WindowClosedCode = 131047;

    /// <summary>Meta's title for <see cref="WindowClosedCode"/>.</summary>
    public const string WindowClosedTitle = "Re-engagement message";

    /// <summary>Meta's pair rate limit: about one message per six seconds to the same user.</summary>
    public const int PairRateLimitCode = 131056;

    public static readonly TimeSpan PairRateDelay = TimeSpan.FromSeconds(6);

    /// <summary>
    /// How long a send that may have reached Meta waits before it is tried again: time for the status of an accepted
    /// send (which names the reply) to arrive and record it, instead of sending it twice.
    /// </summary>
    public static readonly TimeSpan InDoubtDelay = TimeSpan.FromSeconds(5);

    public static ReplyOutcome Decide(
        ClaimedReply reply, GraphSendResult result, DateTimeOffset now, TimeSpan baseDelay, TimeSpan maxDelay, Random? random = null)
    {
        var token = reply.Token;
        switch (result.Outcome)
        {
            case GraphSendOutcome.Accepted:
                return new ReplyOutcome(reply.Id, token, ReplyState.Sent, Attempted: true, Wamid: result.Wamid);

            case GraphSendOutcome.Permanent:
                return new ReplyOutcome(reply.Id, token, ReplyState.Failed, Attempted: true, ErrorCode: result.ErrorCode, ErrorTitle: result.ErrorTitle);

            // The token as such refused: nobody's attempt, and sending pauses. A refusal of the number is an attempt,
            // retried with backoff like a transient failure while the number backs off (see ThrottlesNumber).
            case GraphSendOutcome.Credential when result.RefusesToken:
                return new ReplyOutcome(reply.Id, token, ReplyState.Released, Attempted: false);

            default:
                var delay = Backoff.Delay(reply.Attempts + 1, baseDelay, maxDelay, random);
                if (result.RetryAfter is { } retryAfter && retryAfter > delay)
                {
                    delay = retryAfter;
                }

                if (result.ErrorCode == PairRateLimitCode && delay < PairRateDelay)
                {
                    delay = PairRateDelay;
                }

                if (result.MayHaveReachedMeta && delay < InDoubtDelay)
                {
                    delay = InDoubtDelay;
                }

                return now + delay >= reply.ExpiresAt
                    ? WindowClosed(reply, token, attempted: true, $" (last error: {result.ErrorCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} {result.ErrorTitle})")
                    : new ReplyOutcome(
                        reply.Id, token, ReplyState.Retry, Attempted: true, ErrorCode: result.ErrorCode, ErrorTitle: result.ErrorTitle, RetryIn: delay,
                        InDoubt: result.MayHaveReachedMeta, NotBefore: result.RetryAfter);
        }
    }

    /// <summary>
    /// A reply taken over from a holder whose lease ran out is in doubt: that holder may have sent it just before it
    /// died. It waits <see cref="InDoubtDelay"/> for a status that would record it, and is sent only if none came.
    /// </summary>
    /// <returns>The reply's deferral; null for a reply nobody held before.</returns>
    public static ReplyOutcome? TakenOver(ClaimedReply reply) => reply.TakenOver
        ? new ReplyOutcome(reply.Id, reply.Token, ReplyState.Retry, Attempted: false, ErrorTitle: TakenOverTitle, RetryIn: InDoubtDelay, InDoubt: true)
        : null;

    /// <summary>What a taken-over reply's record says while it waits.</summary>
    public const string TakenOverTitle = "taken over from an instance whose claim ran out; waiting for a status in case it was sent";

    /// <returns>The reply's failure when its window has closed before it could be sent; null while it is open.</returns>
    public static ReplyOutcome? Expired(ClaimedReply reply, DateTimeOffset now) =>
        IsWindowOpen(reply.ExpiresAt, now) ? null : WindowClosed(reply, reply.Token, attempted: false, "");

    /// <summary>Whether a reply whose window closes at <paramref name="expiresAt"/> may still be sent: Meta refuses it after.</summary>
    public static bool IsWindowOpen(DateTimeOffset expiresAt, DateTimeOffset now) => now < expiresAt;

    private static ReplyOutcome WindowClosed(ClaimedReply reply, Guid token, bool attempted, string detail) => new(
        reply.Id, token, ReplyState.Failed, attempted, ErrorCode: WindowClosedCode,
        ErrorTitle: WindowClosedTitle + ": the 24-hour customer service window closed before Ava could send the reply" + detail);

    /// <summary>How long a business number pauses when Meta throttles it without saying for how long.</summary>
    public static readonly TimeSpan DefaultNumberPause = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the whole business number pauses when Meta throttles it: as long as Meta asks — not the throttled
    /// reply's own backoff, which after a long outage is minutes and would hold the number back long after it recovered.
    /// </summary>
    /// <param name="outcome">The refused reply's outcome: a number the token may not use pauses as long as that reply waits.</param>
    public static TimeSpan NumberPause(GraphSendResult result, ReplyOutcome outcome) =>
        result.RefusesNumber && outcome.RetryIn is { } backoff ? backoff
        : result.RetryAfter is { } retryAfter && retryAfter > TimeSpan.Zero ? retryAfter
        : DefaultNumberPause;

    /// <summary>
    /// Whether the whole business number is to hold back (rather than this message or recipient): Meta asks it to slow
    /// down, or the token may not use it.
    /// </summary>
    public static bool ThrottlesNumber(GraphSendResult result) =>
        result.RefusesNumber
        || (result.Outcome == GraphSendOutcome.Transient
            && (result.ErrorCode is 4 or 17 or 341 or 80007 or 130429 || (result.ErrorCode is null && result.RetryAfter is not null)));
}
