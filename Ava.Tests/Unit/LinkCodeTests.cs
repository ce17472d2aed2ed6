using System.Security.Claims;
using Ava.Linking;
using Ava.MessagesApi.Identity;
using Ava.WebhookApi.WhatsApp.Model;
using Ava.WebhookApi.WhatsApp.Processing;

namespace Ava.Tests.Unit;

/// <summary>What a link code stands for, and what a LINK message comes to.</summary>
public sealed class LinkCodeTests
{
    private const string Phone = "15551230001";
    private static readonly Guid s_user = Guid.Parse("0196a8a0-0000-7000-8000-00000000000a");

    [Fact]
    public void A_pending_link_is_stored_as_user_phone_and_label_and_read_back_even_with_separators_in_the_label()
    {
        var link = new PendingLink(s_user, Phone, "odd|name@example.com");

        Assert.Equal($"{s_user:D}|{Phone}|odd|name@example.com", link.Format());
        Assert.True(PendingLink.TryParse(link.Format(), out var read));
        Assert.Equal(link, read);
        Assert.StartsWith(PendingLink.OwnerPrefix(s_user), link.Format(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0196a8a0-0000-7000-8000-00000000000a")]
    [InlineData("not-a-user|15551230001|label")]
    [InlineData("0196a8a0-0000-7000-8000-00000000000a||label")]
    public void Anything_else_is_not_a_pending_link(string? stored) =>
        Assert.False(PendingLink.TryParse(stored, out _));

    [Fact]
    public void The_account_is_named_by_its_email_else_its_phone_else_the_start_of_its_id()
    {
        Assert.Equal("me@example.com", PendingLink.LabelFor(s_user, " me@example.com ", "15550001111"));
        Assert.Equal("+15550001111", PendingLink.LabelFor(s_user, "", "15550001111"));
        Assert.Equal("0196a8a0", PendingLink.LabelFor(s_user, null, null));
        Assert.Equal("ab", PendingLink.LabelFor(s_user, "a\nb", null));
        Assert.Equal(100, PendingLink.LabelFor(s_user, new string('x', 300), null).Length);
    }

    [Theory]
    [InlineData("LINK 123456", "123456")]
    [InlineData("  link 000042 ", "000042")]
    [InlineData("LINK 12345", null)]
    [InlineData("LINK 1234567", null)]
    [InlineData("LINK 1234567890123456", "1234567890123456")]
    [InlineData("LINK 123456789012345", null)]
    [InlineData("LINK abcdef", null)]
    [InlineData("please LINK 123456", null)]
    public void Only_LINK_and_a_code_of_the_issued_length_is_a_link_command(string text, string? code)
    {
        Assert.Equal(LinkCodes.CodeLength, "123456".Length);
        Assert.Equal(code, WhatsAppLinking.CodeIn(new IncomingMessage("wamid.1", null, Phone, null, "text", text, text, null)));
    }

    [Fact]
    public void A_pending_code_links_the_phone_it_names()
    {
        var attempt = WhatsAppLinking.Check(Phone, "123456", new PendingLink(s_user, Phone, "me@example.com").Format(), refused: false);

        Assert.Equal(new LinkAttempt(Phone, "123456", s_user), attempt);
        Assert.Equal(WhatsAppLinking.LinkedReply, WhatsAppLinking.ReplyTo(attempt));
    }

    [Fact]
    public void The_confirmation_of_a_link_names_no_account()
    {
        var attempt = WhatsAppLinking.Check(Phone, "123456", new PendingLink(s_user, Phone, "me@example.com").Format(), refused: false);

        Assert.True(attempt.Succeeded);
        Assert.DoesNotContain("me@example.com", WhatsAppLinking.ReplyTo(attempt), StringComparison.Ordinal);
    }

    [Fact]
    public void A_short_code_sent_without_a_phone_links_nothing_it_is_for_the_phone_it_names()
    {
        var attempt = WhatsAppLinking.Check(null, "123456", new PendingLink(s_user, Phone, "me@example.com").Format(), refused: false, "US.13491208655302741918");

        Assert.False(attempt.Succeeded);
        Assert.Equal(WhatsAppLinking.WrongCodeReply, WhatsAppLinking.ReplyTo(attempt));
    }

    [Fact]
    public void A_code_issued_for_another_phone_links_nothing()
    {
        var attempt = WhatsAppLinking.Check("15559990000", "123456", new PendingLink(s_user, Phone, "me@example.com").Format(), refused: false);

        Assert.False(attempt.Succeeded);
        Assert.Equal(WhatsAppLinking.WrongCodeReply, WhatsAppLinking.ReplyTo(attempt));
    }

    [Fact]
    public void A_sender_without_a_phone_is_linked_by_user_id_on_the_long_code_alone_and_the_claimed_phone_is_only_remembered()
    {
        const string Code = "1234567890123456";
        var attempt = WhatsAppLinking.Check(
            null, Code, new PendingLink(s_user, Phone, "me@example.com").Format(), refused: false, "US.13491208655302741918", "sheena");

        Assert.Equal(
            new LinkAttempt(null, Code, s_user, WhatsAppUserId: "US.13491208655302741918", Username: "sheena", ClaimedPhone: Phone),
            attempt);
        Assert.Equal("US.13491208655302741918", attempt.Sender);
    }

    [Fact]
    public void A_sender_with_a_phone_and_a_user_id_must_still_send_from_the_phone_the_code_names()
    {
        var pending = new PendingLink(s_user, Phone, "me@example.com").Format();

        Assert.False(WhatsAppLinking.Check("15559990000", "123456", pending, refused: false, "US.13491208655302741918").Succeeded);
        var linked = WhatsAppLinking.Check(Phone, "123456", pending, refused: false, "US.13491208655302741918");
        Assert.Equal((true, (string?)"US.13491208655302741918", (string?)null), (linked.Succeeded, linked.WhatsAppUserId, linked.ClaimedPhone));
    }

    [Fact]
    public void Past_a_limit_even_the_right_code_is_refused()
    {
        var pending = new PendingLink(s_user, Phone, "me@example.com").Format();

        var refused = WhatsAppLinking.Check(Phone, "123456", pending, refused: true);
        Assert.Equal((false, true), (refused.Succeeded, refused.Refused));
        Assert.Equal(WhatsAppLinking.RefusedReply, WhatsAppLinking.ReplyTo(refused));
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData("false", false)]
    [InlineData(null, false)]
    public void An_anonymous_supabase_sign_in_is_known_by_its_claim(string? isAnonymous, bool expected)
    {
        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, s_user.ToString()), new(ClaimTypes.Email, "me@example.com") };
        if (isAnonymous is not null)
        {
            claims.Add(new Claim(CurrentUser.IsAnonymousClaim, isAnonymous, ClaimValueTypes.Boolean));
        }

        var user = new CurrentUser { Principal = new ClaimsPrincipal(new ClaimsIdentity(claims, "Bearer")) };

        Assert.Equal(expected, user.IsAnonymous);
        Assert.Equal("me@example.com", user.AccountLabel);
    }
}
