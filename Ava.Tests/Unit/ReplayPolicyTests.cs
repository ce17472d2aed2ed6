using Ava.WebhookApi.WhatsApp.Replay;
using Ava.WebhookApi.WhatsApp.Sending;
using Ava.WebhookApi.WhatsApp.Storage;

namespace Ava.Tests.Unit;

/// <summary>Which failed replies a replay sends again: only those whose 24-hour window is still open.</summary>
public sealed class ReplayPolicyTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_failed_reply_whose_window_is_still_open_is_requeued()
    {
        var (requeue, refused) = ReplayPolicy.Decide([Reply(7, expiresIn: TimeSpan.FromMinutes(1))], s_now);

        Assert.Equal([7L], requeue);
        Assert.Empty(refused);
    }

    [Fact]
    public void A_failed_reply_whose_window_has_closed_is_refused_with_metas_reason()
    {
        var (requeue, refused) = ReplayPolicy.Decide([Reply(8, expiresIn: TimeSpan.FromHours(-3))], s_now);

        Assert.Empty(requeue);
        var refusal = Assert.Single(refused);
        Assert.Equal((8L, 131047, "Re-engagement message"), (refusal.Id, refusal.ErrorCode, refusal.ErrorTitle));
        Assert.Contains("2026-11-25 09:00:00Z", refusal.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void The_window_is_closed_from_the_instant_it_closes_as_for_the_sender()
    {
        var closingNow = Reply(9, expiresIn: TimeSpan.Zero);

        var (requeue, refused) = ReplayPolicy.Decide([closingNow], s_now);

        Assert.Empty(requeue);
        Assert.Single(refused);
        Assert.NotNull(ReplyRetryPolicy.Expired(
            new ClaimedReply(9, Guid.CreateVersion7(), "100", "15551234567", "hi", 0, null, closingNow.ExpiresAt), s_now));
    }

    [Fact]
    public void A_mixed_batch_is_split_in_id_order()
    {
        var (requeue, refused) = ReplayPolicy.Decide(
            [Reply(5, TimeSpan.FromHours(1)), Reply(3, TimeSpan.FromHours(-1)), Reply(4, TimeSpan.FromHours(2)), Reply(1, TimeSpan.FromHours(-30))],
            s_now);

        Assert.Equal([4L, 5L], requeue);
        Assert.Equal([1L, 3L], refused.Select(r => r.Id));
    }

    [Theory]
    [InlineData("15551234567", "*******4567")]
    [InlineData("1234", "****")]
    [InlineData("", "")]
    public void A_listed_reply_shows_only_the_last_four_digits_of_its_phone(string phone, string shown)
    {
        Assert.Equal(shown, FailedReplyItem.MaskRecipient(phone));
    }

    private static FailedReply Reply(long id, TimeSpan expiresIn) =>
        new(id, "15551234567", 1, 131026, "Message undeliverable", s_now.AddHours(-1), s_now + expiresIn);
}
