using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Sending;
using Ava.WebhookApi.WhatsApp.Storage;

namespace Ava.Tests.Unit;

/// <summary>What a Graph API answer means for a reply: sent, retried (until its window closes) or failed.</summary>
public sealed class ReplyRetryPolicyTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid s_token = Guid.CreateVersion7();
    private static readonly TimeSpan s_base = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_max = TimeSpan.FromMinutes(5);

    [Fact]
    public void An_accepted_send_is_sent_with_metas_wamid()
    {
        var outcome = Decide(Reply(), GraphSendResult.Accepted("wamid.OUT"));

        Assert.Equal((ReplyState.Sent, "wamid.OUT", true), (outcome.State, outcome.Wamid, outcome.Attempted));
    }

    [Fact]
    public void A_permanent_refusal_fails_with_metas_code_and_title()
    {
        var outcome = Decide(Reply(), new GraphSendResult(GraphSendOutcome.Permanent, ErrorCode: 131026, ErrorTitle: "Message undeliverable"));

        Assert.Equal((ReplyState.Failed, (int?)131026, "Message undeliverable"), (outcome.State, outcome.ErrorCode, outcome.ErrorTitle));
    }

    [Fact]
    public void A_refused_access_token_hands_the_reply_back_neither_attempted_nor_failed()
    {
        var outcome = Decide(Reply(attempts: 3), new GraphSendResult(GraphSendOutcome.Credential, ErrorCode: 190, ErrorTitle: "Session has expired"));

        Assert.Equal((ReplyState.Released, false, (int?)null, (TimeSpan?)null), (outcome.State, outcome.Attempted, outcome.ErrorCode, outcome.RetryIn));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(200)]
    [InlineData(299)]
    public void A_send_refused_because_the_token_may_not_use_its_number_is_an_attempt_retried_with_backoff_and_holds_back_that_number_only(int code)
    {
        var refused = new GraphSendResult(GraphSendOutcome.Credential, ErrorCode: code, ErrorTitle: "Permission denied");

        var outcome = Decide(Reply(attempts: 3), refused);

        Assert.Equal((ReplyState.Retry, true, (int?)code), (outcome.State, outcome.Attempted, outcome.ErrorCode));
        Assert.InRange(outcome.RetryIn!.Value, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8));
        Assert.True(ReplyRetryPolicy.ThrottlesNumber(refused));
        Assert.Equal(outcome.RetryIn, ReplyRetryPolicy.NumberPause(refused, outcome));
        Assert.False(refused.RefusesToken);
        Assert.True(new GraphSendResult(GraphSendOutcome.Credential, ErrorCode: 190).RefusesToken);
    }

    [Fact]
    public void A_transient_failure_is_retried_with_a_growing_delay_never_sooner_than_retry_after()
    {
        var first = Decide(Reply(attempts: 0), Transient(131000));
        var sixth = Decide(Reply(attempts: 5), Transient(131000));
        var throttled = Decide(Reply(attempts: 0), Transient(130429, retryAfter: TimeSpan.FromSeconds(30)));

        Assert.Equal(ReplyState.Retry, first.State);
        Assert.InRange(first.RetryIn!.Value, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1));
        Assert.InRange(sixth.RetryIn!.Value, TimeSpan.FromSeconds(16), TimeSpan.FromSeconds(32));
        Assert.Equal(TimeSpan.FromSeconds(30), throttled.RetryIn);

        // What Meta said holds even when the number recovers sooner; a plain backoff may be cut short then.
        Assert.Equal(TimeSpan.FromSeconds(30), throttled.NotBefore);
        Assert.Null(sixth.NotBefore);
    }

    [Fact]
    public void The_pair_rate_limit_waits_at_least_six_seconds()
    {
        Assert.True(Decide(Reply(), Transient(ReplyRetryPolicy.PairRateLimitCode)).RetryIn >= ReplyRetryPolicy.PairRateDelay);
    }

    [Fact]
    public void Retries_go_on_for_as_long_as_the_window_is_open_however_many_they_are()
    {
        var outcome = Decide(Reply(attempts: 500, expiresIn: TimeSpan.FromHours(1)), Transient(2));

        Assert.Equal(ReplyState.Retry, outcome.State);
    }

    [Fact]
    public void A_retry_that_would_land_after_the_window_closes_fails_with_metas_reason()
    {
        var outcome = Decide(Reply(attempts: 3, expiresIn: TimeSpan.FromSeconds(2)), Transient(131000, retryAfter: TimeSpan.FromSeconds(10)));

        Assert.Equal((ReplyState.Failed, (int?)ReplyRetryPolicy.WindowClosedCode), (outcome.State, outcome.ErrorCode));
        Assert.Contains("131000", outcome.ErrorTitle, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reply_whose_window_closed_while_it_waited_fails_without_a_send()
    {
        Assert.Null(ReplyRetryPolicy.Expired(Reply(expiresIn: TimeSpan.FromSeconds(1)), s_now));
        var expired = ReplyRetryPolicy.Expired(Reply(expiresIn: TimeSpan.Zero), s_now)!;

        Assert.Equal((ReplyState.Failed, false, (int?)ReplyRetryPolicy.WindowClosedCode), (expired.State, expired.Attempted, expired.ErrorCode));
    }

    [Fact]
    public void Throughput_limits_slow_the_number_down_and_the_pair_limit_only_the_message()
    {
        Assert.True(ReplyRetryPolicy.ThrottlesNumber(Transient(130429)));
        Assert.True(ReplyRetryPolicy.ThrottlesNumber(Transient(80007)));
        Assert.False(ReplyRetryPolicy.ThrottlesNumber(Transient(ReplyRetryPolicy.PairRateLimitCode)));
        Assert.False(ReplyRetryPolicy.ThrottlesNumber(Transient(131000)));
    }

    [Fact]
    public void A_send_that_may_have_reached_meta_waits_for_its_status_before_it_is_tried_again()
    {
        var timedOut = Decide(Reply(), new GraphSendResult(GraphSendOutcome.Transient, ErrorTitle: "timeout", MayHaveReachedMeta: true));
        var refused = Decide(Reply(), Transient(131000));

        Assert.Equal(ReplyRetryPolicy.InDoubtDelay, timedOut.RetryIn);
        Assert.True(refused.RetryIn < ReplyRetryPolicy.InDoubtDelay);

        // In doubt, it is also kept out of its number's recovery, which sends waiting replies at once.
        Assert.Equal((true, false), (timedOut.InDoubt, refused.InDoubt));
    }

    [Fact]
    public void A_reply_taken_over_from_a_holder_that_died_waits_for_a_status_unattempted_and_a_fresh_one_goes()
    {
        var takenOver = ReplyRetryPolicy.TakenOver(Reply() with { TakenOver = true });

        Assert.Equal(
            (ReplyState.Retry, false, true, (TimeSpan?)ReplyRetryPolicy.InDoubtDelay),
            (takenOver!.State, takenOver.Attempted, takenOver.InDoubt, takenOver.RetryIn));
        Assert.Null(ReplyRetryPolicy.TakenOver(Reply()));
    }

    [Theory]
    [InlineData("ava-reply:42:0196a8a05d7e7c3a9b1e4f5e6d7c8b9a", 42L)]
    [InlineData("ava-reply:42", null)]
    [InlineData("ava-reply:0:0196a8a05d7e7c3a9b1e4f5e6d7c8b9a", null)]
    [InlineData("ava-reply:-3:0196a8a05d7e7c3a9b1e4f5e6d7c8b9a", null)]
    [InlineData("ava-reply:4x:0196a8a05d7e7c3a9b1e4f5e6d7c8b9a", null)]
    [InlineData("ava-reply:42:not-a-key", null)]
    [InlineData("campaign-7", null)]
    [InlineData(null, null)]
    public void Only_callback_data_ava_wrote_with_the_replys_key_names_a_reply(string? callbackData, long? replyId)
    {
        var reference = ReplyReference.Parse(callbackData);

        Assert.Equal(replyId, reference?.ReplyId);
        if (reference is { } named)
        {
            Assert.Equal(Guid.Parse("0196a8a0-5d7e-7c3a-9b1e-4f5e6d7c8b9a"), named.Key);
            Assert.Equal(callbackData, named.Format());
        }
    }

    [Fact]
    public void A_throttled_number_pauses_as_long_as_meta_asks_not_as_long_as_the_replys_own_backoff()
    {
        var late = Transient(130429, retryAfter: TimeSpan.FromSeconds(5));
        var outcome = Decide(Reply(attempts: 12), late);

        Assert.True(outcome.RetryIn > TimeSpan.FromMinutes(1));
        Assert.Equal(TimeSpan.FromSeconds(5), ReplyRetryPolicy.NumberPause(late, outcome));
        Assert.Equal(ReplyRetryPolicy.DefaultNumberPause, ReplyRetryPolicy.NumberPause(Transient(130429), outcome));
    }

    private static ReplyOutcome Decide(ClaimedReply reply, GraphSendResult result) =>
        ReplyRetryPolicy.Decide(reply, result, s_now, s_base, s_max);

    private static GraphSendResult Transient(int code, TimeSpan? retryAfter = null) =>
        new(GraphSendOutcome.Transient, ErrorCode: code, ErrorTitle: "try later", RetryAfter: retryAfter);

    private static ClaimedReply Reply(int attempts = 0, TimeSpan? expiresIn = null) =>
        new(42, s_token, "100000000000001", "15551230001", "[Echo] hi", attempts, null, s_now + (expiresIn ?? TimeSpan.FromHours(24)));
}
