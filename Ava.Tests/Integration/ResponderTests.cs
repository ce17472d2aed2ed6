using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Ava.Responder.Contracts;
using Ava.SampleResponder;
using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Replay;
using Ava.WebhookApi.WhatsApp.Storage;

namespace Ava.Tests.Integration;

/// <summary>
/// A responder answers linked users instead of the echo: it is sent each message as a signed turn with the history
/// before it, one turn of a user at a time and in order, however slow or absent it is; its answer reaches the user
/// once; and what it refuses ends in a short apology, replayable.
/// </summary>
[Collection(ResponderStackCollection.Name)]
public sealed class ResponderTests(ResponderStackFixture stack)
{
    private readonly WhatsAppDriver _whatsApp = new(stack);
    private readonly AvaDatabase _database = new(stack);
    private readonly AvaTokens _tokens = new(stack);

    [Fact]
    public async Task A_linked_users_message_is_posted_as_a_signed_turn_keyed_by_its_wamid_and_the_answer_is_what_they_get()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        await stack.BehaveAsync(new UserBehaviour(userId, Replies: ["Hello! You wrote: {text}"]));
        var message = WhatsAppDriver.Text(phone, "hi there");

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(message)));

        Assert.Equal("Hello! You wrote: hi there", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        var call = Assert.Single(await stack.TurnsOfAsync(userId));
        Assert.True(call.SignatureValid);
        Assert.Equal(message.Id, call.IdempotencyKey);
        var turn = call.Turn!;
        Assert.Equal((message.Id, userId, "whatsapp", WhatsAppDriver.PhoneNumberId), (turn.TurnId, turn.UserId, turn.Channel, turn.PhoneNumberId));
        Assert.Equal(new TurnMessage("text", "hi there", "hi there"), turn.Message);
        Assert.Empty(turn.History);

        // Both lines are the user's history, the answer marked sent.
        var history = await WhatsAppDriver.EventuallyAsync(
            () => _database.QueryAsync(
                "SELECT role::text, content, delivery_status::text FROM messages WHERE user_id = $1 ORDER BY created_at, id",
                row => (Role: row.GetString(0), Content: row.GetString(1), Status: row.IsDBNull(2) ? null : row.GetString(2)),
                userId),
            rows => rows.Count == 2 && rows[1].Status == "sent");
        Assert.Equal([("user", "hi there", null), ("assistant", "Hello! You wrote: hi there", "sent")], history);
    }

    [Fact]
    public async Task A_turn_carries_the_users_latest_messages_before_it_oldest_first_as_many_as_configured()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        await stack.BehaveAsync(new UserBehaviour(userId, Replies: ["re: {text}"]));
        foreach (var (text, answered) in new[] { ("one", 1), ("two", 2), ("three", 3) })
        {
            await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, text))));
            await _whatsApp.AcceptedSendsToAsync(phone, answered);
        }

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "four"))));
        await _whatsApp.AcceptedSendsToAsync(phone, 4);

        var last = (await stack.TurnsOfAsync(userId)).Last().Turn!;
        Assert.Equal("four", last.Message.Text);
        Assert.Equal(ResponderStackFixture.HistoryMessages, last.History.Count);
        Assert.Equal(
            [("user", "two"), ("assistant", "re: two"), ("user", "three"), ("assistant", "re: three")],
            last.History.Select(h => (h.Role, h.Content)));
        Assert.True(last.History.Zip(last.History.Skip(1)).All(pair => pair.First.CreatedAt <= pair.Second.CreatedAt));
    }

    [Fact]
    public async Task A_responder_taking_six_seconds_for_one_user_does_not_delay_another_users_answer()
    {
        var (slowPhone, slowUser) = await _database.LinkedUserAsync();
        var (quickPhone, quickUser) = await _database.LinkedUserAsync();
        var slowDelay = TimeSpan.FromSeconds(6);
        await stack.BehaveAsync(new UserBehaviour(slowUser, DelayMs: (int)slowDelay.TotalMilliseconds));
        await stack.BehaveAsync(new UserBehaviour(quickUser, DelayMs: 0));

        var started = Stopwatch.StartNew();
        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(slowPhone, "take your time"))));
        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(quickPhone, "quick one"))));

        await WhatsAppDriver.EventuallyAsync(async () => (await _whatsApp.SendsToAsync(quickPhone)).Count, count => count == 1);
        var quickAnswered = started.Elapsed;
        await WhatsAppDriver.EventuallyAsync(async () => (await _whatsApp.SendsToAsync(slowPhone)).Count, count => count == 1);
        var slowAnswered = started.Elapsed;

        // The quick user is answered while the slow responder still thinks: never after it (a busy machine may take
        // seconds either way, so the bound is the slow answer itself, not a figure of this machine).
        Assert.True(quickAnswered < slowDelay, $"the quick user waited {quickAnswered.TotalSeconds:0.0} s, as long as the slow responder");
        Assert.True(slowAnswered >= slowDelay, $"the slow user was answered after {slowAnswered.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task While_the_responder_is_down_turns_wait_and_once_it_is_back_each_is_answered_once_in_order()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        await stack.BehaveAsync(new UserBehaviour(userId, FailStatus: 503, FailTimes: 4, Replies: ["re: {text}"]));

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "first"))));
        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "second"))));

        var sends = await _whatsApp.AcceptedSendsToAsync(phone, 2);
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        Assert.Equal(["re: first", "re: second"], (await _whatsApp.SendsToAsync(phone)).Select(s => s.Body));
        var calls = await stack.TurnsOfAsync(userId);
        Assert.Equal([503, 503, 503, 503, 200, 200], calls.Select(c => c.Status));
        Assert.Equal(["first", "first", "first", "first", "first", "second"], calls.Select(c => c.Turn!.Message.Text));
        Assert.Equal(2, sends.Count);
    }

    [Fact]
    public async Task A_users_three_quick_messages_are_three_turns_that_reach_the_responder_in_order_never_two_at_once()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        await stack.BehaveAsync(new UserBehaviour(userId, DelayMs: 700, Replies: ["re: {text}"]));
        var messages = new[] { "a", "b", "c" }.Select(text => WhatsAppDriver.Text(phone, text)).ToArray();

        // One delivery, and two more right behind it, as a fast typist's messages arrive.
        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(messages[0], messages[1])));
        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(messages[2])));

        var sends = await _whatsApp.AcceptedSendsToAsync(phone, 3);
        Assert.Equal(["re: a", "re: b", "re: c"], sends.OrderBy(s => s.At).Select(s => s.Body));
        var calls = await stack.TurnsOfAsync(userId);
        Assert.Equal(["a", "b", "c"], calls.Select(c => c.Turn!.Message.Text));
        Assert.All(calls.Zip(calls.Skip(1)), pair => Assert.True(
            pair.Second.StartedAt >= pair.First.FinishedAt, $"turn {pair.Second.Turn!.Message.Text} started before {pair.First.Turn!.Message.Text} was answered"));

        // The responder saw each earlier turn answered when it was asked the next.
        Assert.Equal([("user", "a"), ("assistant", "re: a")], calls[1].Turn!.History.Select(h => (h.Role, h.Content)));
    }

    [Fact]
    public async Task A_photos_turn_carries_its_media_as_the_history_shows_it()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        await stack.BehaveAsync(new UserBehaviour(userId, Replies: ["what a view"]));
        var bytes = new byte[50_000];
        Random.Shared.NextBytes(bytes);
        var photo = await _whatsApp.UploadMediaAsync(bytes, "image/jpeg");
        var message = WhatsAppDriver.Media(phone, "image", photo, caption: "from the balcony");

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(message)));

        Assert.Equal("what a view", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        var asked = Assert.Single(await stack.TurnsOfAsync(userId)).Turn!.Message;
        var messageId = Assert.Single(await _database.QueryAsync<Guid>("SELECT id FROM messages WHERE external_id = $1", message.Id));
        Assert.Equal("image", asked.Type);
        var media = asked.Media!;
        Assert.Equal(
            (messageId, "image", "image/jpeg", "from the balcony", Convert.ToHexStringLower(SHA256.HashData(bytes))),
            (media.Id, media.Type, media.MimeType, media.Caption, media.Sha256));
        Assert.Contains(media.Status, new[] { "pending", "stored" });
    }

    [Fact]
    public async Task A_turn_waits_for_a_delivery_received_before_it_that_is_still_being_processed_but_not_past_the_window()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        await stack.BehaveAsync(new UserBehaviour(userId, Replies: ["re: {text}"]));

        // A delivery received just before, which an instance has taken and is still processing (its lease runs a
        // minute): it may hold this user's earlier message, so the turn behind it waits — until the window is over.
        var held = await _database.ScalarAsync<long>(
            "INSERT INTO inbound_deliveries (received_at, body, claim_token, locked_until) VALUES (now(), $1, $2, now() + interval '1 minute') RETURNING id",
            """{"object":"whatsapp_business_account","entry":[]}"""u8.ToArray(),
            Guid.CreateVersion7());
        var heldAt = await _database.ScalarAsync<DateTimeOffset>("SELECT received_at FROM inbound_deliveries WHERE id = $1", held);
        try
        {
            await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "right behind it"))));

            Assert.Equal("re: right behind it", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
            var asked = Assert.Single(await stack.TurnsOfAsync(userId)).StartedAt;
            Assert.True(
                asked >= heldAt + TurnsTable.ArrivalOrderWindow - TimeSpan.FromMilliseconds(250),
                $"the turn was asked {(asked - heldAt).TotalSeconds:0.00} s after the earlier delivery arrived, inside its {TurnsTable.ArrivalOrderWindow.TotalSeconds} s window");
        }
        finally
        {
            await _database.ExecuteAsync("DELETE FROM inbound_deliveries WHERE id = $1", held);
        }
    }

    [Fact]
    public async Task An_answer_of_several_replies_reaches_the_user_in_the_order_given()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        await stack.BehaveAsync(new UserBehaviour(userId, Replies: ["1 {text}", "2 {text}", "3 {text}"]));

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "count"))));

        var sends = await _whatsApp.AcceptedSendsToAsync(phone, 3);
        Assert.Equal(["1 count", "2 count", "3 count"], sends.OrderBy(s => s.At).Select(s => s.Body));
        var history = await _database.QueryAsync<string>("SELECT content FROM messages WHERE user_id = $1 AND role = 'assistant' ORDER BY created_at, id", userId);
        Assert.Equal(["1 count", "2 count", "3 count"], history);
    }

    [Fact]
    public async Task While_the_responder_thinks_the_message_shows_read_and_ava_typing_renewed_until_the_answer()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        await stack.BehaveAsync(new UserBehaviour(userId, DelayMs: 3_500));
        var message = WhatsAppDriver.Text(phone, "think about it");

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(message)));

        var reply = Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1));
        var reads = await _whatsApp.ReadsOfAsync(message.Id!);
        Assert.InRange(reads.Count, 3, 5);
        Assert.All(reads, read => Assert.True(read.Typing && read.At <= reply.At, $"typing shown at {read.At:O}, answered at {reply.At:O}"));
    }

    [Fact]
    public async Task A_turn_the_responder_refuses_ends_with_one_apology_and_once_replayed_is_answered()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        await stack.BehaveAsync(new UserBehaviour(userId, FailStatus: 400, FailTimes: 1, Replies: ["now I know: {text}"]));

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "a hard question"))));

        var apology = Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1));
        Assert.StartsWith("Sorry", apology.Body, StringComparison.Ordinal);
        var failed = Assert.Single((await ListFailedAsync()).Turns, t => t.UserId == userId);
        Assert.Equal("responder answered 400", failed.Error);
        Assert.True(failed.WindowOpen);

        var replayed = await ReplayAsync(new ReplayRequest(Deliveries: null, Replies: null, All: false, Turns: [failed.Id]));
        Assert.Equal([failed.Id], replayed.Turns.ReplayedIds);

        var sends = await _whatsApp.AcceptedSendsToAsync(phone, 2);
        Assert.Equal([apology.Body, "now I know: a hard question"], sends.OrderBy(s => s.At).Select(s => s.Body));
        Assert.Equal(
            ["answered"],
            await WhatsAppDriver.EventuallyAsync(
                () => _database.QueryAsync<string>("SELECT status::text FROM conversation_turns WHERE id = $1", failed.Id), s => s.SequenceEqual(["answered"])));
    }

    [Fact]
    public async Task A_turn_whose_holder_died_after_the_responder_answered_is_taken_over_asked_again_and_answered_once()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        await stack.BehaveAsync(new UserBehaviour(userId, Replies: ["the one answer to {text}"]));
        var wamid = WhatsAppDriver.NewWamid();
        var messageId = Guid.CreateVersion7();

        // The dead instance had logged the message, claimed its turn and asked the responder, which answered.
        await _database.ExecuteAsync(
            "INSERT INTO messages (id, user_id, channel, role, content, created_at, external_id) VALUES ($1, $2, 'whatsapp', 'user', 'a question', now(), $3)",
            messageId, userId, wamid);
        await _database.ExecuteAsync(
            """
            INSERT INTO conversation_turns (inbound_wamid, user_id, message_id, phone_number_id, to_phone, message_type, content, written_at, expires_at, claim_token, locked_until)
            VALUES ($1, $2, $3, $4, $5, 'text', 'a question', now(), now() + interval '24 hours', gen_random_uuid(), now() + interval '3 seconds')
            """,
            wamid, userId, messageId, WhatsAppDriver.PhoneNumberId, phone);
        await AskAsTheDeadInstanceDidAsync(new Turn(wamid, userId, "whatsapp", WhatsAppDriver.PhoneNumberId, DateTimeOffset.UtcNow, new TurnMessage("text", "a question", "a question"), []));

        Assert.Equal("the one answer to a question", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        Assert.Single(await _whatsApp.SendsToAsync(phone));
        Assert.Equal([wamid, wamid], (await stack.TurnsOfAsync(userId)).Select(c => c.IdempotencyKey));
        Assert.Equal(
            ["the one answer to a question"],
            await _database.QueryAsync<string>("SELECT content FROM messages WHERE user_id = $1 AND role = 'assistant'", userId));
    }

    [Fact]
    public async Task A_stranger_is_still_told_how_to_register_by_ava_and_the_responder_never_hears_of_them()
    {
        var phone = WhatsAppDriver.NewPhone();

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "who are you?"))));

        Assert.Equal(WhatsAppCloudApiOptions.DefaultRegistrationMessage, Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        Assert.Empty(await _database.QueryAsync<long>("SELECT id FROM conversation_turns WHERE to_phone = $1", phone));
    }

    private async Task AskAsTheDeadInstanceDidAsync(Turn turn)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(turn, ResponderJsonContext.Default.Turn);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/turns") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(TurnSignature.IdempotencyKeyHeaderName, turn.TurnId);
        request.Headers.Add(TurnSignature.HeaderName, TurnSignature.Compute(await stack.GetParameterAsync("responder-secret"), body));
        using var response = await stack.Responder.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<FailedWork> ListFailedAsync()
    {
        using var response = await SendAdminAsync(HttpMethod.Get, $"/admin/failed?limit={FailedWorkReplay.MaxBatch}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<FailedWork>(TestContext.Current.CancellationToken))!;
    }

    private async Task<ReplayResult> ReplayAsync(ReplayRequest request)
    {
        using var response = await SendAdminAsync(HttpMethod.Post, "/admin/replay", JsonSerializer.Serialize(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ReplayResult>(TestContext.Current.CancellationToken))!;
    }

    private async Task<HttpResponseMessage> SendAdminAsync(HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await _tokens.ServiceRoleAsync());
        if (body is not null)
        {
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        }

        return await _whatsApp.Webhook.SendAsync(request, TestContext.Current.CancellationToken);
    }
}
