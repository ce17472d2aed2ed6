using System.Globalization;
using System.Text;
using Ava.Tests.Integration;
using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Model;
using Ava.WebhookApi.WhatsApp.Processing;
using Ava.WhatsApp.Contracts;

namespace Ava.Tests.Unit;

/// <summary>No content Meta can send makes a message unstorable or unanswerable.</summary>
public sealed class StorableTextTests
{
    [Fact]
    public void A_nul_and_a_lone_surrogate_are_read_as_their_escaped_spelling()
    {
        var body = Encoding.UTF8.GetBytes(Notification("""[{"from":"15551230001","id":"wamid.A","type":"text","text":{"body":"a\u0000b \ud800 c\\u0000"}}]"""));

        var message = Assert.Single(NotificationReader.Read(body)!.Messages);

        Assert.Equal(@"a\u0000b \ud800 c\u0000", message.Text);
        Assert.Equal(message.Text, message.Content);
    }

    [Fact]
    public void Surrogate_pairs_and_other_escapes_are_read_unchanged()
    {
        var body = Encoding.UTF8.GetBytes(Notification("""[{"from":"15551230001","id":"wamid.A","type":"text","text":{"body":"\ud83d\ude00 \"quoted\" \\ \u00e9"}}]"""));

        Assert.Same(body, StorableText.NeutraliseJsonEscapes(body));
        Assert.Equal("😀 \"quoted\" \\ é", Assert.Single(NotificationReader.Read(body)!.Messages).Text);
    }

    [Fact]
    public void A_message_of_an_unexpected_shape_costs_only_itself()
    {
        var body = Encoding.UTF8.GetBytes(Notification(
            """[{"from":"15551230001","id":"wamid.A","type":"text","text":{"body":5}},{"from":"15551230002","id":"wamid.B","type":"text","text":{"body":"fine"}}]"""));

        var contents = NotificationReader.Read(body)!;

        Assert.Equal(["wamid.B"], contents.Messages.Select(m => m.Wamid));
        Assert.Equal(1, contents.Skipped);
    }

    [Fact]
    public void A_timestamp_beyond_the_calendar_is_read_as_unknown()
    {
        var body = Encoding.UTF8.GetBytes(Notification("""[{"from":"15551230001","id":"wamid.A","timestamp":"99999999999999","type":"text","text":{"body":"hi"}}]"""));

        Assert.Null(Assert.Single(NotificationReader.Read(body)!.Messages).SentAt);
    }

    [Fact]
    public void An_echo_of_2048_emoji_is_cut_at_a_character_boundary()
    {
        var text = string.Concat(Enumerable.Repeat("😀", 2048));
        var message = new IncomingMessage("wamid.A", "1", "15551230001", null, "text", text, text, null);

        var echo = ReplyPolicy.ReplyTo(message, senderIsLinked: true, "register")!;

        Assert.True(echo.Length <= SendTextMessageRequest.MaxBodyLength);
        Assert.Equal(ReplyPolicy.EchoPrefix + string.Concat(Enumerable.Repeat("😀", 2044)), echo);
        _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(echo);
    }

    [Fact]
    public void A_cut_never_splits_an_emoji_built_of_several_code_points()
    {
        const string family = "👨‍👩‍👧‍👦"; // four people joined by zero-width joiners: one character on screen, 11 UTF-16 units

        var cut = StorableText.Truncate("ab" + family, 12);

        Assert.Equal("ab", cut);
        Assert.Equal(1, new StringInfo(family).LengthInTextElements);
    }

    [Fact]
    public void Text_that_reaches_storage_another_way_is_escaped_too()
    {
        Assert.Equal(@"x\u0000y\udc00z😀", StorableText.Clean("x\0y\udc00z😀"));
        Assert.Same("plain", StorableText.Clean("plain"));
    }

    private static string Notification(string messages) =>
        "{\"object\":\"" + WebhookNotification.WhatsAppBusinessAccount + "\",\"entry\":[{\"id\":\"W\",\"changes\":[{\"field\":\"messages\",\"value\":"
        + "{\"metadata\":{\"phone_number_id\":\"" + WhatsAppDriver.PhoneNumberId + "\"},\"messages\":" + messages + "}}]}]}";
}
