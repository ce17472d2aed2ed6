using System.Net;
using System.Security.Cryptography;
using System.Text;
using Ava.Data.Media;
using Ava.Data.Messages;
using Ava.Data.WhatsApp;
using Ava.Responder.Contracts;
using Ava.WebhookApi.WhatsApp.Responding;
using Ava.WebhookApi.WhatsApp.Storage;

namespace Ava.Tests.Unit;

/// <summary>
/// What a turn comes to after the responder was asked: its answer goes out as given; no answer is asked again while
/// the user's window leaves time for one; a refusal or a closing window ends it with the apology, never after the
/// window has closed.
/// </summary>
public sealed class TurnPolicyTests
{
    private const string Fallback = "Sorry, not now.";

    private static readonly DateTimeOffset s_now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan s_base = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_max = TimeSpan.FromMinutes(5);

    [Fact]
    public void An_answer_is_sent_as_the_responder_gave_it_in_its_order()
    {
        var decision = TurnPolicy.Decide(Turn(), Answer("""{"replies":[{"type":"text","text":"one"},{"type":"text","text":"two"}]}"""), s_now, s_base, s_max, Fallback);

        Assert.Equal(ConversationTurnStatus.Answered, decision.Status);
        Assert.Equal(["one", "two"], decision.Replies);
        Assert.False(decision.Retry);
    }

    [Theory]
    [InlineData("""{"replies":[]}""")]
    [InlineData("""{}""")]
    [InlineData("")]
    public void An_answer_without_replies_ends_the_turn_answered_and_sends_nothing(string body)
    {
        var decision = TurnPolicy.Decide(Turn(), Answer(body), s_now, s_base, s_max, Fallback);

        Assert.Equal((ConversationTurnStatus.Answered, 0), (decision.Status, decision.Replies.Count));
    }

    [Fact]
    public void Replies_of_a_type_ava_does_not_send_are_left_out_and_counted()
    {
        var result = Answer("""{"replies":[{"type":"image","text":"x"},{"type":"text","text":"kept"},{"type":"text","text":""}]}""");

        Assert.Equal(["kept"], result.Replies);
        Assert.Equal(2, result.Skipped);
    }

    [Theory]
    [InlineData(HttpStatusCode.RequestTimeout)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    public void No_answer_this_time_is_asked_again_after_a_backoff(HttpStatusCode status)
    {
        var decision = TurnPolicy.Decide(Turn(attempts: 2), ResponderResult.FromResponse(status, null, []), s_now, s_base, s_max, Fallback, new Random(1));

        Assert.Equal(ConversationTurnStatus.Pending, decision.Status);
        Assert.InRange(decision.RetryIn!.Value, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4));
        Assert.Empty(decision.Replies);
    }

    [Fact]
    public void A_retry_after_longer_than_the_backoff_is_honoured()
    {
        var decision = TurnPolicy.Decide(Turn(), ResponderResult.FromResponse(HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(30), []), s_now, s_base, s_max, Fallback);

        Assert.Equal(TimeSpan.FromSeconds(30), decision.RetryIn);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.UnprocessableEntity)]
    [InlineData(HttpStatusCode.Redirect)]
    public void A_refusal_ends_the_turn_failed_with_the_apology(HttpStatusCode status)
    {
        var decision = TurnPolicy.Decide(Turn(), ResponderResult.FromResponse(status, null, []), s_now, s_base, s_max, Fallback);

        Assert.Equal((ConversationTurnStatus.Failed, Fallback), (decision.Status, Assert.Single(decision.Replies)));
        Assert.Equal($"responder answered {(int)status}", decision.Error);
    }

    [Fact]
    public void An_answer_ava_cannot_read_is_a_refusal_not_a_retry()
    {
        var decision = TurnPolicy.Decide(Turn(), Answer("{not json"), s_now, s_base, s_max, Fallback);

        Assert.Equal(ConversationTurnStatus.Failed, decision.Status);
    }

    [Fact]
    public void No_answer_when_the_window_closes_before_the_next_try_ends_the_turn_with_the_apology_while_it_can_still_be_sent()
    {
        var closing = Turn(expiresAt: s_now + TimeSpan.FromMinutes(1.5));

        var decision = TurnPolicy.Decide(closing, ResponderResult.FromResponse(HttpStatusCode.TooManyRequests, TimeSpan.FromMinutes(1), []), s_now, s_base, s_max, Fallback);

        Assert.Equal((ConversationTurnStatus.Failed, Fallback), (decision.Status, Assert.Single(decision.Replies)));
    }

    [Fact]
    public void A_turn_whose_window_has_closed_ends_failed_without_anything_sent_and_without_asking()
    {
        var decision = TurnPolicy.Expired(Turn(expiresAt: s_now.AddSeconds(-1)), s_now, Fallback);

        Assert.Equal(ConversationTurnStatus.Failed, decision!.Status);
        Assert.Empty(decision.Replies);
        Assert.Null(TurnPolicy.Expired(Turn(), s_now, Fallback));
    }

    [Fact]
    public void An_empty_fallback_message_sends_nothing_on_a_refusal()
    {
        var decision = TurnPolicy.Decide(Turn(), ResponderResult.FromResponse(HttpStatusCode.BadRequest, null, []), s_now, s_base, s_max, fallback: "");

        Assert.Equal(ConversationTurnStatus.Failed, decision.Status);
        Assert.Empty(decision.Replies);
    }

    [Fact]
    public void A_turns_replies_are_the_assistants_pending_lines_after_the_message_in_order_cut_at_metas_limit()
    {
        var turn = Turn();
        var (history, replies) = TurnPolicy.Replies(turn, ["first", new string('x', 5000)], firstIndex: 0, s_now, "00-trace");

        Assert.Equal([0, 1], replies.Select(r => r.TurnReplyIndex!.Value));
        Assert.All(replies, r => Assert.Equal((turn.Id, (string?)null, turn.ToPhone, turn.ExpiresAt, "00-trace"), (r.TurnId!.Value, r.InboundWamid, r.ToPhone, r.ExpiresAt, r.TraceParent)));
        Assert.Equal(4096, replies[1].Body.Length);
        Assert.Equal(replies.Select(r => r.MessageId), history.Select(h => (Guid?)h.Id));
        Assert.All(history, h => Assert.Equal((MessageRole.Assistant, DeliveryStatus.Pending, turn.UserId), (h.Role, h.DeliveryStatus!.Value, h.UserId)));
        Assert.True(history[0].CreatedAt > turn.WrittenAt && history[1].CreatedAt > history[0].CreatedAt);
    }

    [Fact]
    public void The_request_carries_the_text_for_a_text_and_the_summary_for_anything_else()
    {
        var history = new[] { new HistoryLine(MessageRole.User, "hi", s_now.AddMinutes(-2)), new HistoryLine(MessageRole.Assistant, "hello", s_now.AddMinutes(-1)) };

        var text = TurnPolicy.Request(Turn(), history);
        var image = TurnPolicy.Request(Turn() with { MessageType = "image", Content = "[image] a cat" }, []);

        Assert.Equal(new TurnMessage("text", "how are you?", "how are you?"), text.Message);
        Assert.Equal([("user", "hi"), ("assistant", "hello")], text.History.Select(h => (h.Role, h.Content)));
        Assert.Equal(new TurnMessage("image", null, "[image] a cat"), image.Message);
    }

    [Fact]
    public void A_media_message_carries_its_media_as_the_history_shows_it_under_the_messages_id()
    {
        var turn = Turn() with { MessageType = "document", Content = "[document] report.pdf: the figures" };
        var digest = SHA256.HashData("a report"u8);

        var request = TurnPolicy.Request(turn, [], new MediaMetadata(
            "document", "application/pdf", 52_000_000, "report.pdf", "the figures", Convert.ToHexStringLower(digest), MediaStatus.TooLarge));

        Assert.Equal(
            new TurnMedia(turn.MessageId, "document", "application/pdf", 52_000_000, "report.pdf", "the figures", Convert.ToHexStringLower(digest), "too_large"),
            request.Message.Media);
        Assert.Equal("[document] report.pdf: the figures", request.Message.Summary);
    }

    private static ResponderResult Answer(string json) => ResponderResult.FromResponse(HttpStatusCode.OK, null, Encoding.UTF8.GetBytes(json));

    private static ClaimedTurn Turn(int attempts = 0, DateTimeOffset? expiresAt = null) => new(
        7, Guid.CreateVersion7(), "wamid.T", Guid.CreateVersion7(), Guid.CreateVersion7(), "100000000000001", "15551110001", null,
        "text", "how are you?", s_now.AddSeconds(-3), attempts, expiresAt ?? s_now.AddHours(23), "00-abc");
}
