using System.Net;
using Ava.WebhookApi.WhatsApp;
using Ava.WhatsApp.Contracts;

namespace Ava.Tests.Integration;

/// <summary>What Ava does with a delivery: who gets which reply through the Graph API, and what is logged.</summary>
[Collection(AvaStackCollection.Name)]
public sealed class WebhookProcessingTests(AvaStackFixture stack)
{
    private const string RegistrationMessage = WhatsAppCloudApiOptions.DefaultRegistrationMessage;

    private readonly WhatsAppDriver _whatsApp = new(stack);
    private readonly AvaDatabase _database = new(stack);

    [Fact]
    public async Task A_linked_user_gets_an_echo_and_both_messages_are_logged()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        var message = WhatsAppDriver.Text("+" + phone, "Does it come in another color?");

        using var response = await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(message)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var send = Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1));
        Assert.Equal("[Echo] Does it come in another color?", send.Body);
        Assert.Equal(WhatsAppDriver.PhoneNumberId, send.PhoneNumberId);

        var history = await HistoryAsync(userId, expected: 2);
        Assert.Equal(
            [
                ("user", "Does it come in another color?", message.Id),
                ("assistant", "[Echo] Does it come in another color?", send.Wamid),
            ],
            history);
    }

    [Fact]
    public async Task An_unlinked_sender_gets_registration_instructions_and_nothing_is_logged_as_history()
    {
        var phone = WhatsAppDriver.NewPhone();
        var message = WhatsAppDriver.Text(phone, "hi");

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(message)));

        var send = Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1));
        Assert.Equal(RegistrationMessage, send.Body);
        Assert.Equal(0, await _database.ScalarAsync<long>("SELECT count(*) FROM messages WHERE external_id = $1", message.Id));
        Assert.Equal(
            ["hi"],
            await _database.QueryAsync<string>("SELECT content FROM inbound_messages WHERE wamid = $1 AND user_id IS NULL", message.Id));
    }

    [Fact]
    public async Task The_same_delivery_three_times_is_answered_and_logged_once()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        var body = WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "only once")));

        for (var i = 0; i < 3; i++)
        {
            using var response = await _whatsApp.PostSignedAsync(body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await WhatsAppDriver.EventuallyAsync(
            () => _database.ScalarAsync<long>("SELECT count(*) FROM inbound_deliveries WHERE body = $1 AND processed_at IS NOT NULL", body),
            processed => processed == 3);
        Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1));
        Assert.Equal(2, (await HistoryAsync(userId, expected: 2)).Count);
    }

    [Fact]
    public async Task Every_message_of_every_change_of_every_entry_of_a_batch_is_answered()
    {
        var phones = Enumerable.Range(0, 6).Select(_ => WhatsAppDriver.NewPhone()).ToArray();
        WebhookEntry Entry(int first) => new("TEST-WABA",
        [
            WhatsAppDriver.Messages(WhatsAppDriver.Text(phones[first], "a"), WhatsAppDriver.Text(phones[first + 1], "b")),
            WhatsAppDriver.Messages(WhatsAppDriver.Text(phones[first + 2], "c")),
        ]);

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification([Entry(0), Entry(3)]));

        foreach (var phone in phones)
        {
            Assert.Equal(RegistrationMessage, Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        }
    }

    [Fact]
    public async Task A_linked_users_caption_is_their_text_and_echoed_while_a_location_is_logged_and_not_echoed()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        var image = WhatsAppDriver.Message(phone, "image") with
        {
            Image = new WebhookMedia("media-1", "image/jpeg", "abc", "Look at this", null),
        };
        var location = WhatsAppDriver.Message(phone, "location") with
        {
            Location = new WebhookLocation(52.37, 4.89, "Dam Square", "Amsterdam"),
        };

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(image, location)));

        Assert.Equal("[Echo] Look at this", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        var history = await HistoryAsync(userId, expected: 3);
        Assert.Equal(
            [("user", "Look at this", image.Id), ("user", "[location] Dam Square, Amsterdam (52.37, 4.89)", location.Id)],
            history.Where(m => m.Role == "user").OrderBy(m => m.ExternalId == location.Id).ToList());
        Assert.Single(await _whatsApp.SendsToAsync(phone));
    }

    [Fact]
    public async Task A_message_without_a_phone_is_stored_without_a_reply()
    {
        var wamid = WhatsAppDriver.NewWamid();
        var usernameOnly = WhatsAppDriver.Message(from: null, "text", wamid) with { FromUserId = "US.13491208655302741918", Text = new WebhookText("hi") };

        using var response = await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(usernameOnly)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = await WhatsAppDriver.EventuallyAsync(
            () => _database.QueryAsync<string>("SELECT from_user_id FROM inbound_messages WHERE wamid = $1 AND from_phone IS NULL", wamid),
            rows => rows.Count == 1);
        Assert.Equal(["US.13491208655302741918"], stored);
    }

    [Fact]
    public async Task Statuses_in_any_order_leave_the_furthest_and_a_failure_keeps_its_code()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(
            WhatsAppDriver.Text(phone, "one"), WhatsAppDriver.Text(phone, "two"))));
        var sends = await _whatsApp.AcceptedSendsToAsync(phone, 2);
        var (first, second) = (sends[0].Wamid!, sends[1].Wamid!);

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Statuses(
            WhatsAppDriver.Status(first, "read", phone),
            WhatsAppDriver.Status(first, "sent", phone))));
        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Statuses(
            WhatsAppDriver.Status(first, "delivered", phone),
            WhatsAppDriver.Status(second, "failed", phone, new WhatsAppError(131026, "Message undeliverable", null, null)))));

        Assert.Equal("read", await EventualStatusAsync(first, "read"));
        Assert.Equal("failed", await EventualStatusAsync(second, "failed"));
        Assert.Equal(
            [(131026, "Message undeliverable")],
            await _database.QueryAsync(
                "SELECT error_code, error_title FROM delivery_status_events WHERE wamid = $1 AND status = 'failed'",
                row => (row.GetInt32(0), row.GetString(1)),
                second));
    }

    [Fact]
    public async Task Graph_errors_twice_then_success_deliver_exactly_one_reply()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        await _whatsApp.FailNextSendsAsync(phone, 2, 500, 131000, "Something went wrong");

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "retry me"))));

        var accepted = Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1));
        Assert.Equal("[Echo] retry me", accepted.Body);
        Assert.Equal([500, 500, 200], (await _whatsApp.SendsToAsync(phone)).Select(s => s.HttpStatus));
        Assert.Equal(
            [new ReplyAttempts("sent", 3)],
            await _database.RepliesToAsync(phone));
    }

    [Fact]
    public async Task A_rate_limited_send_waits_as_long_as_retry_after_says()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        await _whatsApp.FailNextSendsAsync(phone, 1, 429, 130429, "Rate limit hit", retryAfterSeconds: 3);

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "slow down"))));

        await _whatsApp.AcceptedSendsToAsync(phone, 1);
        var sends = await _whatsApp.SendsToAsync(phone);
        Assert.Equal([429, 200], sends.Select(s => s.HttpStatus));
        Assert.True(sends[1].At - sends[0].At >= TimeSpan.FromSeconds(2.9), $"retried after {sends[1].At - sends[0].At}");
    }

    [Fact]
    public async Task A_batch_of_a_thousand_messages_is_answered_in_full()
    {
        var phones = Enumerable.Range(0, 1000).Select(_ => WhatsAppDriver.NewPhone()).Distinct().ToArray();
        var body = WhatsAppDriver.Notification(WhatsAppDriver.Messages([.. phones.Select(p => WhatsAppDriver.Text(p, "bulk"))]));

        using var response = await _whatsApp.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answered = await WhatsAppDriver.EventuallyAsync(
            () => _database.ScalarAsync<long>("SELECT count(*) FROM outbound_replies WHERE to_phone = ANY($1) AND status = 'sent'", (object)phones),
            sent => sent == phones.Length,
            patience: TimeSpan.FromMinutes(2));
        Assert.Equal(phones.Length, answered);
    }

    [Fact]
    public async Task A_permanent_graph_error_is_recorded_and_not_retried()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        await _whatsApp.FailNextSendsAsync(phone, 5, 400, 131047, "Re-engagement message");

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "too late"))));

        var recorded = await WhatsAppDriver.EventuallyAsync(
            () => _database.QueryAsync(
                "SELECT status::text, error_code, error_title FROM outbound_replies WHERE to_phone = $1 AND status <> 'pending'",
                row => (row.GetString(0), row.GetInt32(1), row.GetString(2)),
                phone),
            rows => rows.Count == 1);
        Assert.Equal([("failed", 131047, "Re-engagement message")], recorded);
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        Assert.Single(await _whatsApp.SendsToAsync(phone));
    }

    [Fact]
    public async Task A_message_and_its_reply_are_one_trace_from_the_webhook_request_to_the_graph_send()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        var body = WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "trace me")));

        await _whatsApp.PostSignedAsync(body);

        var send = Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1));
        var received = await _database.ScalarAsync<string>("SELECT trace_parent FROM inbound_deliveries WHERE body = $1", body);
        static string TraceId(string? traceParent) => traceParent?.Split('-') is [_, var traceId, _, _] ? traceId : $"not a traceparent: {traceParent}";
        Assert.Equal(TraceId(received), TraceId(send.TraceParent));
    }

    private async Task<List<(string Role, string Content, string? ExternalId)>> HistoryAsync(Guid userId, int expected)
    {
        var rows = await WhatsAppDriver.EventuallyAsync(
            () => _database.QueryAsync<string>(
                """
                SELECT role::text || E'\t' || content || E'\t' || coalesce(external_id, '')
                FROM messages WHERE user_id = $1 AND channel = 'whatsapp' AND avatar_id IS NULL
                ORDER BY created_at, id
                """,
                userId),
            rows => rows.Count >= expected && rows.All(r => !r.EndsWith('\t')));
        return rows.Select(r => r.Split('\t')).Select(p => (p[0], p[1], p[2].Length == 0 ? null : p[2])).ToList();
    }

    /// <summary>The status the user's history shows for the reply.</summary>
    private Task<string> EventualStatusAsync(string replyWamid, string expected) => WhatsAppDriver.EventuallyAsync(
        () => _database.ScalarAsync<string>(
            "SELECT m.delivery_status::text FROM messages m JOIN outbound_replies r ON r.message_id = m.id WHERE r.wamid = $1",
            replyWamid),
        status => status == expected);
}
