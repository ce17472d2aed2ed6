using System.Net;
using System.Text;
using Ava.Data.WhatsApp;
using Ava.Tests.Integration;
using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Processing;
using Ava.WebhookApi.WhatsApp.Sending;
using Ava.WhatsApp.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;

namespace Ava.Tests.Unit;

public sealed class WhatsAppContractTests
{
    [Fact]
    public void The_signature_is_meta_s_hmac_sha256_of_the_raw_bytes()
    {
        var body = """{"object":"whatsapp_business_account","entry":[]}"""u8.ToArray();

        var signature = WebhookSignature.Compute("app-secret", body);

        // printf '%s' "$body" | openssl dgst -sha256 -hmac app-secret
        Assert.Equal("sha256=d3e4f9da0ce6c71ab3dba55929b8eeeee2455349e534924ead19f98d143e904f", signature);
        Assert.True(WebhookSignature.IsValid(signature, "app-secret"u8, body));
        Assert.True(WebhookSignature.IsValid(signature.ToUpperInvariant().Replace("SHA256=", "sha256=", StringComparison.Ordinal), "app-secret"u8, body));
        Assert.False(WebhookSignature.IsValid(signature, "other-secret"u8, body));
        Assert.False(WebhookSignature.IsValid(signature[..^2], "app-secret"u8, body));
        Assert.False(WebhookSignature.IsValid("sha256=" + new string('z', 64), "app-secret"u8, body));
    }

    [Fact]
    public void Every_message_and_status_of_every_change_and_entry_is_read()
    {
        var body = WhatsAppDriver.Notification(
        [
            new WebhookEntry("A", [WhatsAppDriver.Messages(WhatsAppDriver.Text("111", "a"), WhatsAppDriver.Text("222", "b")), WhatsAppDriver.Statuses(WhatsAppDriver.Status("wamid.X", "delivered", "111"))]),
            new WebhookEntry("B", [WhatsAppDriver.Messages(WhatsAppDriver.Text("333", "c"))]),
        ]);

        var contents = NotificationReader.Read(body);

        Assert.NotNull(contents);
        Assert.Equal(["111", "222", "333"], contents.Messages.Select(m => m.FromPhone));
        Assert.Equal([DeliveryStatus.Delivered], contents.Statuses.Select(s => s.Status));
        Assert.Equal(0, contents.Skipped);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"object":"page","entry":[]}""")]
    [InlineData("""{"entry":[]}""")]
    [InlineData("[]")]
    public void A_body_that_is_not_a_whatsapp_notification_is_unprocessable(string body) =>
        Assert.Null(NotificationReader.Read(Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void Parts_without_an_id_or_with_an_unknown_status_are_skipped_not_fatal()
    {
        var body = WhatsAppDriver.Notification(
            WhatsAppDriver.Messages(WhatsAppDriver.Text("111", "kept"), WhatsAppDriver.Text("222", "no id") with { Id = null }),
            WhatsAppDriver.Statuses(WhatsAppDriver.Status("wamid.Y", "deleted", "111")));

        var contents = NotificationReader.Read(body)!;

        Assert.Equal(["kept"], contents.Messages.Select(m => m.Text));
        Assert.Empty(contents.Statuses);
        Assert.Equal(2, contents.Skipped);
    }

    [Theory]
    [InlineData("""{"type":"audio","audio":{"id":"1","mime_type":"audio/ogg"}}""", "[audio]")]
    [InlineData("""{"type":"video","video":{"id":"1","caption":"Our dog"}}""", "[video] Our dog")]
    [InlineData("""{"type":"document","document":{"id":"1","filename":"cv.pdf","caption":"My CV"}}""", "[document] cv.pdf My CV")]
    [InlineData("""{"type":"sticker","sticker":{"id":"1"}}""", "[sticker]")]
    [InlineData("""{"type":"reaction","reaction":{"message_id":"wamid.1","emoji":"👍"}}""", "[reaction] 👍")]
    [InlineData("""{"type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"b1","title":"Yes"}}}""", "[interactive] Yes")]
    [InlineData("""{"type":"button","button":{"payload":"p","text":"Stop promotions"}}""", "[button] Stop promotions")]
    [InlineData("""{"type":"contacts","contacts":[{"name":{"formatted_name":"A"}},{"name":{"formatted_name":"B"}}]}""", "[contacts] 2 contact(s)")]
    [InlineData("""{"type":"system","system":{"body":"User changed number","type":"user_changed_number"}}""", "[system] User changed number")]
    [InlineData("""{"type":"unsupported","errors":[{"code":131051,"title":"Message type unknown"}]}""", "[unsupported] Message type unknown")]
    [InlineData("""{"type":"poll"}""", "[poll]")]
    public void Non_text_messages_get_a_readable_summary(string message, string summary)
    {
        var body = Encoding.UTF8.GetBytes(
            """{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{"from":"1","id":"wamid.1",""" + message[1..] + "]}}]}]}");

        var read = Assert.Single(NotificationReader.Read(body)!.Messages);

        Assert.Equal(summary, read.Content);
        Assert.Null(read.Text);
    }

    [Fact]
    public void Replies_echo_linked_text_instruct_strangers_and_stay_silent_otherwise()
    {
        const string registration = "Register first";
        var text = new IncomingMessage("w", "pn", "111", null, "text", "hi", "hi", null);
        var image = text with { Type = "image", Text = null, Content = "[image]" };
        var reaction = image with { Type = "reaction" };

        Assert.Equal("[Echo] hi", ReplyPolicy.ReplyTo(text, senderIsLinked: true, registration));
        Assert.Null(ReplyPolicy.ReplyTo(image, senderIsLinked: true, registration));
        Assert.Equal(registration, ReplyPolicy.ReplyTo(text, senderIsLinked: false, registration));
        Assert.Equal(registration, ReplyPolicy.ReplyTo(image, senderIsLinked: false, registration));
        Assert.Null(ReplyPolicy.ReplyTo(reaction, senderIsLinked: false, registration));
        Assert.Null(ReplyPolicy.ReplyTo(text with { FromPhone = null }, senderIsLinked: false, registration));
        Assert.Equal(SendTextMessageRequest.MaxBodyLength, ReplyPolicy.ReplyTo(text with { Text = new string('x', 5000) }, true, registration)!.Length);
    }

    [Fact]
    public void The_read_receipt_is_metas_documented_call_for_read_and_typing()
    {
        var body = Encoding.UTF8.GetString(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(
            MarkReadRequest.WithTypingIndicator("wamid.HBgL"), WhatsAppJsonContext.Default.MarkReadRequest));

        Assert.Equal("""{"messaging_product":"whatsapp","status":"read","message_id":"wamid.HBgL","typing_indicator":{"type":"text"}}""", body);
    }

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests, null, "Transient")]
    [InlineData(HttpStatusCode.InternalServerError, null, "Transient")]
    [InlineData(HttpStatusCode.ServiceUnavailable, null, "Transient")]
    [InlineData(HttpStatusCode.BadRequest, 130429, "Transient")]
    [InlineData(HttpStatusCode.BadRequest, 131056, "Transient")]
    [InlineData(HttpStatusCode.BadRequest, 131047, "Permanent")]
    [InlineData(HttpStatusCode.BadRequest, 131026, "Permanent")]
    [InlineData(HttpStatusCode.InternalServerError, 131026, "Permanent")]
    [InlineData(HttpStatusCode.BadRequest, 100, "Permanent")]
    [InlineData(HttpStatusCode.BadRequest, null, "Permanent")]
    [InlineData(HttpStatusCode.Forbidden, null, "Permanent")]
    [InlineData(HttpStatusCode.Unauthorized, 190, "Credential")]
    [InlineData(HttpStatusCode.Unauthorized, 0, "Credential")]
    [InlineData(HttpStatusCode.InternalServerError, 3, "Credential")]
    [InlineData(HttpStatusCode.Forbidden, 10, "Credential")]
    [InlineData(HttpStatusCode.Forbidden, 200, "Credential")]
    [InlineData(HttpStatusCode.Forbidden, 299, "Credential")]
    [InlineData(HttpStatusCode.Unauthorized, null, "Credential")]
    public void Graph_failures_are_transient_permanent_or_about_the_access_token(HttpStatusCode status, int? code, string outcome) =>
        Assert.Equal(outcome, GraphErrorClassifier.Classify(status, code).ToString());

    [Theory]
    [InlineData("00:00:00.500", "00:00:15", "00:00:00", "TokenCheckInterval")]
    [InlineData("00:05:00", "2.00:00:00", "00:00:00", "PausedTokenCheckInterval")]
    [InlineData("00:05:00", "00:00:15", "-00:00:01", "RegistrationReplyInterval")]
    [InlineData("00:05:00", "00:00:15", "00:00:00", null)]
    public void Token_check_and_registration_reply_intervals_out_of_range_stop_the_service_at_start(
        string tokenCheck, string pausedTokenCheck, string registrationReply, string? named)
    {
        var problem = new WhatsAppProcessingOptions
        {
            TokenCheckInterval = TimeSpan.Parse(tokenCheck, System.Globalization.CultureInfo.InvariantCulture),
            PausedTokenCheckInterval = TimeSpan.Parse(pausedTokenCheck, System.Globalization.CultureInfo.InvariantCulture),
            RegistrationReplyInterval = TimeSpan.Parse(registrationReply, System.Globalization.CultureInfo.InvariantCulture),
        }.Problem();

        if (named is null)
        {
            Assert.Null(problem);
        }
        else
        {
            Assert.Contains(named, problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_missing_setting_is_named_and_the_app_secret_is_required_in_development_too()
    {
        var empty = new WhatsAppOptions();

        var production = new WhatsAppOptionsValidator(Environment(Environments.Production)).Validate(null, empty);
        var development = new WhatsAppOptionsValidator(Environment(Environments.Development)).Validate(null, empty);

        Assert.True(production.Failed);
        Assert.Equal(
            ["WHATSAPP_ACCESS_TOKEN is not set.", "WHATSAPP_PHONE_NUMBER_ID is not set.", "WHATSAPP_VERIFY_TOKEN is not set.", "WHATSAPP_APP_SECRET is not set."],
            production.Failures);
        Assert.Contains(development.Failures!, failure => failure.StartsWith("WHATSAPP_APP_SECRET is not set", StringComparison.Ordinal));

        var complete = new WhatsAppOptions { AccessToken = "t", PhoneNumberId = "1", VerifyToken = "v", AppSecret = "s" };
        Assert.True(new WhatsAppOptionsValidator(Environment(Environments.Production)).Validate(null, complete).Succeeded);
        Assert.Equal("v25.0", complete.GraphApiVersion);
    }

    private static HostingEnvironment Environment(string name) => new() { EnvironmentName = name };
}
