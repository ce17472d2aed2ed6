using System.Net;
using System.Text;
using Ava.Data.WhatsApp;
using Ava.Tests.Integration;
using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Model;
using Ava.WebhookApi.WhatsApp.Processing;
using Ava.WebhookApi.WhatsApp.Sending;
using Ava.WhatsApp.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;

namespace Ava.Tests.Unit;

public sealed class WhatsAppContractTests
{
    private static readonly Guid s_replyKey = Guid.CreateVersion7();

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
    [InlineData("""{"type":"video","video":{"id":"1"}}""", "[video]")]
    [InlineData("""{"type":"document","document":{"id":"1","filename":"cv.pdf"}}""", "[document] cv.pdf")]
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
    public void A_media_messages_caption_is_what_its_sender_wrote_and_its_media_is_read_with_metas_id_and_checksum()
    {
        var body = Encoding.UTF8.GetBytes(
            """{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{"from":"1","id":"wamid.1","type":"document","document":{"id":"987","mime_type":"application/pdf","sha256":"abc=","filename":"cv.pdf","caption":"My CV"}},{"from":"1","id":"wamid.2","type":"audio","audio":{"id":"654","mime_type":"audio/ogg","voice":true}},{"from":"1","id":"wamid.3","type":"image","image":{"mime_type":"image/jpeg"}}]}}]}]}""");

        var messages = NotificationReader.Read(body)!.Messages;

        Assert.Equal(("My CV", "My CV"), (messages[0].Content, messages[0].Text));
        Assert.Equal(new IncomingMedia("document", "987", "application/pdf", "abc=", "My CV", "cv.pdf", Voice: false), messages[0].Media);
        Assert.Equal(("[audio]", null), (messages[1].Content, messages[1].Text));
        Assert.Equal(new IncomingMedia("audio", "654", "audio/ogg", null, null, null, Voice: true), messages[1].Media);
        // Without Meta's id there is nothing to fetch.
        Assert.Null(messages[2].Media);
    }

    [Fact]
    public void A_link_code_in_a_caption_is_not_a_link()
    {
        var photo = new IncomingMessage("w", "pn", "111", null, "image", "LINK 123456", "LINK 123456", null);

        Assert.Null(WhatsAppLinking.CodeIn(photo));
        Assert.Equal("123456", WhatsAppLinking.CodeIn(photo with { Type = "text" }));
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
        Assert.Equal("[Echo] a cat", ReplyPolicy.ReplyTo(image with { Text = "a cat", Content = "a cat" }, senderIsLinked: true, registration));
        Assert.Equal(registration, ReplyPolicy.ReplyTo(text, senderIsLinked: false, registration));
        Assert.Equal(registration, ReplyPolicy.ReplyTo(image, senderIsLinked: false, registration));
        Assert.Null(ReplyPolicy.ReplyTo(reaction, senderIsLinked: false, registration));
        Assert.Null(ReplyPolicy.ReplyTo(text with { FromPhone = null }, senderIsLinked: false, registration));
        Assert.Equal(registration, ReplyPolicy.ReplyTo(text with { FromPhone = null, FromUserId = "US.1349" }, senderIsLinked: false, registration));
        Assert.Equal(SendTextMessageRequest.MaxBodyLength, ReplyPolicy.ReplyTo(text with { Text = new string('x', 5000) }, true, registration)!.Length);
    }

    [Fact]
    public void A_message_from_a_user_who_adopted_a_username_is_read_with_their_user_id_username_and_parent_id_and_no_phone()
    {
        var body = Encoding.UTF8.GetBytes("""
            {"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
              "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
              "contacts":[{"profile":{"name":"Sheena","username":"sheena.n"},"user_id":"US.13491208655302741918","parent_user_id":"US.ENT.11815799212886844830"}],
              "messages":[{"from_user_id":"US.13491208655302741918","id":"wamid.U","timestamp":"1749416383","type":"text","text":{"body":"hi"}}]}}]}]}
            """);

        var message = Assert.Single(NotificationReader.Read(body)!.Messages);

        Assert.Equal(
            ((string?)null, (string?)"US.13491208655302741918", (string?)"sheena.n", (string?)"US.ENT.11815799212886844830", (string?)"US.13491208655302741918"),
            (message.FromPhone, message.FromUserId, message.FromUsername, message.FromParentUserId, message.Sender));
    }

    [Fact]
    public void The_user_id_of_a_sender_with_a_phone_comes_from_their_contact_when_the_message_does_not_name_it()
    {
        var body = Encoding.UTF8.GetBytes("""
            {"object":"whatsapp_business_account","entry":[{"changes":[{"value":{
              "contacts":[{"profile":{"name":"A"},"wa_id":"16505551234","user_id":"US.1111"},{"profile":{"name":"B"},"wa_id":"16505550000","user_id":"US.2222"}],
              "messages":[{"from":"16505550000","id":"wamid.B","type":"text","text":{"body":"b"}}]}}]}]}
            """);

        var message = Assert.Single(NotificationReader.Read(body)!.Messages);

        Assert.Equal(("16505550000", (string?)"US.2222"), (message.FromPhone, message.FromUserId));
    }

    [Theory]
    [InlineData("16505551234")]
    [InlineData("US")]
    [InlineData("USA.123")]
    [InlineData("US.12 34")]
    public void A_user_id_not_of_the_form_meta_documents_is_read_as_absent(string userId)
    {
        var body = Encoding.UTF8.GetBytes(
            $$$"""{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{"from_user_id":"{{{userId}}}","id":"wamid.1","type":"text","text":{"body":"x"}}]}}]}]}""");

        Assert.Null(Assert.Single(NotificationReader.Read(body)!.Messages).FromUserId);
    }

    [Fact]
    public void A_status_of_a_message_sent_to_a_user_id_names_that_id_and_no_phone()
    {
        var body = Encoding.UTF8.GetBytes("""
            {"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"statuses":[
              {"id":"wamid.S","status":"delivered","timestamp":"1749416383","recipient_user_id":"US.13491208655302741918","biz_opaque_callback_data":"REPLY"}]}}]}]}
            """.Replace("REPLY", new ReplyReference(7, s_replyKey).Format(), StringComparison.Ordinal));

        var status = Assert.Single(NotificationReader.Read(body)!.Statuses);

        Assert.Equal(
            (DeliveryStatus.Delivered, (string?)null, (string?)"US.13491208655302741918", (ReplyReference?)new ReplyReference(7, s_replyKey)),
            (status.Status, status.RecipientId, status.RecipientUserId, status.Reply));
    }

    [Fact]
    public void Replaced_user_ids_are_read_from_the_user_id_update_field_and_from_system_messages_that_name_both()
    {
        var body = Encoding.UTF8.GetBytes("""
            {"object":"whatsapp_business_account","entry":[{"changes":[
              {"field":"user_id_update","value":{"messaging_product":"whatsapp","user_id_update":[
                {"wa_id":"16505551234","detail":"User id for Sheena has been updated.","user_id":{"previous":"US.1111","current":"US.2222"},"timestamp":"1700000003"},
                {"detail":"unchanged","user_id":{"previous":"US.3333","current":"US.3333"}}]}},
              {"field":"messages","value":{"messages":[
                {"from_user_id":"US.4444","id":"wamid.SYS","type":"system","system":{"body":"User Sheena changed from US.4444 to US.5555","user_id":"US.5555","type":"user_changed_user_id"}},
                {"id":"wamid.SYS2","type":"system","system":{"body":"User Sheena changed from US.6666 to US.7777","user_id":"US.7777","type":"user_changed_user_id"}}]}}]}]}
            """);

        var contents = NotificationReader.Read(body)!;

        Assert.Equal([new UserIdChange("US.1111", "US.2222"), new UserIdChange("US.4444", "US.5555")], contents.UserIdChanges);
        Assert.Equal(["wamid.SYS", "wamid.SYS2"], contents.Messages.Select(m => m.Wamid));
    }

    [Fact]
    public void A_reply_goes_to_the_phone_in_to_and_without_one_to_the_user_id_in_recipient()
    {
        static string Json(SendTextMessageRequest request) =>
            Encoding.UTF8.GetString(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(request, WhatsAppJsonContext.Default.SendTextMessageRequest));

        Assert.Equal(
            """{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"text","text":{"body":"hi"}}""",
            Json(SendTextMessageRequest.CreateTo("16505551234", "US.1349", "hi")));
        Assert.Equal(
            """{"messaging_product":"whatsapp","recipient_type":"individual","type":"text","text":{"body":"hi"},"recipient":"US.1349"}""",
            Json(SendTextMessageRequest.CreateTo(null, "US.1349", "hi")));
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
        var empty = new WhatsAppCloudApiOptions();

        var production = new WhatsAppCloudApiOptionsValidator(Environment(Environments.Production)).Validate(null, empty);
        var development = new WhatsAppCloudApiOptionsValidator(Environment(Environments.Development)).Validate(null, empty);

        Assert.True(production.Failed);
        Assert.Equal(
            ["WHATSAPP_ACCESS_TOKEN is not set.", "WHATSAPP_PHONE_NUMBER_ID is not set.", "WHATSAPP_VERIFY_TOKEN is not set.", "WHATSAPP_APP_SECRET is not set."],
            production.Failures);
        Assert.Contains(development.Failures!, failure => failure.StartsWith("WHATSAPP_APP_SECRET is not set", StringComparison.Ordinal));

        var complete = new WhatsAppCloudApiOptions { AccessToken = "t", PhoneNumberId = "1", VerifyToken = "v", AppSecret = "s" };
        Assert.True(new WhatsAppCloudApiOptionsValidator(Environment(Environments.Production)).Validate(null, complete).Succeeded);
        Assert.Equal("v25.0", complete.GraphApiVersion);
    }

    private static HostingEnvironment Environment(string name) => new() { EnvironmentName = name };
}
