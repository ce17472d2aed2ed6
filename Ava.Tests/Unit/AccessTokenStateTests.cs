using Ava.WebhookApi.WhatsApp.Sending;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;

namespace Ava.Tests.Unit;

/// <summary>When sending pauses for a refused access token, when it resumes, and what /health says meanwhile.</summary>
public sealed class AccessTokenStateTests
{
    private const string Ava = "100000000000001";

    private static readonly TimeSpan s_interval = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan s_pausedInterval = TimeSpan.FromSeconds(15);
    private static readonly GraphSendResult s_accepted = GraphSendResult.Answered;
    private static readonly GraphSendResult s_expired = new(GraphSendOutcome.Credential, ErrorCode: 190, ErrorTitle: "Error validating access token: Session has expired");
    private static readonly GraphSendResult s_unreachable = new(GraphSendOutcome.Transient, ErrorTitle: "HttpRequestException: Connection refused");

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void The_token_is_checked_at_start_and_then_every_interval_while_it_works()
    {
        var state = State();
        Assert.Equal(_clock.GetUtcNow(), state.NextCheckAt);

        Assert.Equal(TokenTransition.None, Check(state, s_accepted));

        Assert.False(state.SendingPaused);
        Assert.Equal(_clock.GetUtcNow() + s_interval, state.NextCheckAt);
        Assert.Equal(HealthStatus.Healthy, state.Health().Status);
    }

    [Fact]
    public void A_refused_send_pauses_sending_until_a_check_passes_and_the_check_comes_often_meanwhile()
    {
        var state = State();
        Check(state, s_accepted);
        _clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(TokenTransition.Paused, state.ObserveRefusal(s_expired));
        Assert.True(state.SendingPaused);
        Assert.Equal(_clock.GetUtcNow() + s_pausedInterval, state.NextCheckAt);

        _clock.Advance(s_pausedInterval);
        Assert.Equal(TokenTransition.None, Check(state, s_expired));
        Assert.True(state.SendingPaused);

        _clock.Advance(s_pausedInterval);
        Assert.Equal(TokenTransition.Resumed, Check(state, s_accepted));
        Assert.False(state.SendingPaused);
        Assert.Equal(_clock.GetUtcNow() + s_interval, state.NextCheckAt);
    }

    [Fact]
    public void Refusals_while_paused_neither_pause_again_nor_put_the_next_check_off()
    {
        var state = State();
        state.ObserveRefusal(s_expired);
        var nextCheck = state.NextCheckAt;

        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(TokenTransition.None, state.ObserveRefusal(s_expired));

        Assert.Equal(nextCheck, state.NextCheckAt);
    }

    [Fact]
    public void A_check_refused_at_start_pauses_sending_from_the_start()
    {
        var state = State();

        Assert.Equal(TokenTransition.Paused, Check(state, s_expired));
        Assert.Equal(TokenVerdict.Refused, state.Verdict);
    }

    [Fact]
    public void An_acceptance_sent_before_a_refusal_does_not_resume_sending()
    {
        var state = State();
        var checkSentAt = _clock.GetUtcNow();
        _clock.Advance(TimeSpan.FromMilliseconds(300));
        state.ObserveRefusal(s_expired);
        _clock.Advance(TimeSpan.FromMilliseconds(300));

        Assert.Equal(TokenTransition.None, state.ObserveCheck(s_accepted, checkSentAt));

        Assert.True(state.SendingPaused);
        Assert.Equal(_clock.GetUtcNow() + s_pausedInterval, state.NextCheckAt);
    }

    [Fact]
    public void A_check_without_an_answer_changes_nothing_and_is_repeated_soon_unless_the_token_was_known_good()
    {
        var neverAnswered = State();
        Check(neverAnswered, s_unreachable);
        Assert.Equal((TokenVerdict.Unchecked, false, _clock.GetUtcNow() + s_pausedInterval), (neverAnswered.Verdict, neverAnswered.SendingPaused, neverAnswered.NextCheckAt));
        Assert.Equal(HealthStatus.Healthy, neverAnswered.Health().Status);

        var paused = State();
        Check(paused, s_expired);
        Check(paused, s_unreachable);
        Assert.Equal((TokenVerdict.Refused, true, _clock.GetUtcNow() + s_pausedInterval), (paused.Verdict, paused.SendingPaused, paused.NextCheckAt));

        var good = State();
        Check(good, s_accepted);
        Check(good, s_unreachable);
        Assert.Equal((TokenVerdict.Accepted, false, _clock.GetUtcNow() + s_interval), (good.Verdict, good.SendingPaused, good.NextCheckAt));
    }

    [Fact]
    public void Health_is_degraded_with_the_reason_while_the_token_is_refused_and_healthy_again_after()
    {
        var state = State();
        state.ObserveRefusal(s_expired);

        var refused = state.Health();
        Assert.Equal(HealthStatus.Degraded, refused.Status);
        Assert.Contains("refused the WhatsApp access token since 2026-11-25 12:00:00Z (Meta code 190: Error validating access token", refused.Description, StringComparison.Ordinal);
        Assert.Contains("Sending is paused", refused.Description, StringComparison.Ordinal);
        Assert.Contains("WHATSAPP_ACCESS_TOKEN", refused.Description, StringComparison.Ordinal);

        Check(state, s_accepted);
        Assert.Equal(HealthStatus.Healthy, state.Health().Status);
    }

    [Fact]
    public void A_phone_number_the_token_cannot_read_is_degraded_health_but_does_not_stop_sending()
    {
        var state = State();

        Check(state, new GraphSendResult(GraphSendOutcome.Permanent, ErrorCode: 100, ErrorTitle: "Unsupported get request. Object with ID '100000000000001' does not exist"));

        Assert.False(state.SendingPaused);
        var health = state.Health();
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.StartsWith($"WHATSAPP_PHONE_NUMBER_ID {Ava} cannot be read with the access token", health.Description, StringComparison.Ordinal);
    }

    private AccessTokenState State() => new(_clock, Ava, s_interval, s_pausedInterval);

    private TokenTransition Check(AccessTokenState state, GraphSendResult result) => state.ObserveCheck(result, _clock.GetUtcNow());
}
