using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ava.Linking;
using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Processing;
using Ava.WhatsApp.Testing;
using Ava.WhatsAppSimulator;

namespace Ava.Tests.Integration;

/// <summary>
/// WhatsApp users who adopted a username may write without a phone: Meta names them only by their business-scoped
/// user id, and Ava answers, links and keeps their history by it, through the simulator playing such a user.
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class UsernameOnlyTests(AvaStackFixture stack)
{
    private readonly AvaTokens _tokens = new(stack);
    private readonly WhatsAppDriver _whatsApp = new(stack);
    private readonly AvaDatabase _database = new(stack);

    [Fact]
    public async Task A_user_without_a_phone_is_told_how_to_register_links_with_a_code_and_is_echoed_at_their_user_id()
    {
        var userId = WhatsAppDriver.NewUserId();
        using var me = await _tokens.ClientForAsync(Guid.NewGuid(), new Dictionary<string, object> { ["email"] = "sheena@example.com" });

        await WriteAsync(userId, "hello?");
        var registration = (await _whatsApp.AcceptedSendsToAsync(userId, 1))[^1];
        Assert.Equal((WhatsAppCloudApiOptions.DefaultRegistrationMessage, RecordedSend.UserId), (registration.Body, registration.AddressedAs));

        // The code names a phone the user claims; without a phone the code alone links the user id.
        var code = await RequestCodeAsync(me, "+" + WhatsAppDriver.NewPhone());
        await WriteAsync(userId, $"LINK {code}");
        Assert.Equal(WhatsAppLinking.LinkedReply, (await _whatsApp.AcceptedSendsToAsync(userId, 2))[^1].Body);

        await WriteAsync(userId, "no phone, still me");
        var sends = await _whatsApp.AcceptedSendsToAsync(userId, 3);
        var echo = sends[^1];
        Assert.Equal(("[Echo] no phone, still me", RecordedSend.UserId), (echo.Body, echo.AddressedAs));

        // Meta reports what became of messages sent to a user id by that id alone, without a phone.
        foreach (var reply in sends[1..])
        {
            using var statuses = await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Statuses(
                [.. new[] { "delivered", "read" }.Select(status => WhatsAppDriver.Status(reply.Wamid!, status, recipient: null, callbackData: reply.CallbackData) with { RecipientUserId = userId })])));
            Assert.Equal(HttpStatusCode.OK, statuses.StatusCode);
        }

        var link = await me.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken);
        Assert.Equal(
            (true, JsonValueKind.Null, userId, "sheena.n"),
            (link.GetProperty("linked").GetBoolean(), link.GetProperty("phone").ValueKind, link.GetProperty("whatsapp_user_id").GetString(), link.GetProperty("username").GetString()));

        var history = await WhatsAppDriver.EventuallyAsync(
            async () => await HistoryAsync(me),
            items => items.Count == 4 && items[0].DeliveryStatus == "read");
        Assert.Equal(
            [
                ("assistant", "[Echo] no phone, still me", "read"),
                ("user", "no phone, still me", null),
                ("assistant", WhatsAppLinking.LinkedReply, "read"),
                ("user", $"LINK {code}", null),
            ],
            history);
        Assert.Equal(
            [userId],
            await _database.QueryAsync<string>(
                "SELECT DISTINCT e.recipient_user_id FROM delivery_status_events e JOIN outbound_replies r ON r.wamid = e.wamid WHERE r.to_user_id = $1", userId));
    }

    [Fact]
    public async Task Without_a_phone_only_the_long_code_links_and_guesses_from_any_number_of_senders_share_one_allowance()
    {
        using var me = await _tokens.ClientForAsync(Guid.NewGuid());
        var challenge = await RequestChallengeAsync(me, "+" + WhatsAppDriver.NewPhone());
        var sender = WhatsAppDriver.NewUserId();

        // The six-digit code is for the phone it names: sent without a phone it links nothing.
        await WriteAsync(sender, $"LINK {challenge.GetProperty("code").GetString()}");
        Assert.Equal(WhatsAppLinking.WrongCodeReply, (await _whatsApp.AcceptedSendsToAsync(sender, 1))[^1].Body);

        using var cache = await AvaCache.ConnectAsync(stack);
        try
        {
            // Each guesser stays under their own limit; together they use up the guesses allowed without a phone.
            var guessers = Enumerable.Range(1, LinkCodes.GuessesWithoutPhonePerWindow - 1).Select(_ => WhatsAppDriver.NewUserId()).ToList();
            using (var guesses = await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(
                [.. guessers.Select(guesser => WebhookNotifications.Text(
                    null, $"LINK {new string('7', LinkCodes.CodeWithoutPhoneLength)}", WhatsAppDriver.NewWamid(), DateTimeOffset.UtcNow, guesser))]))))
            {
                Assert.Equal(HttpStatusCode.OK, guesses.StatusCode);
            }

            Assert.Equal(WhatsAppLinking.WrongCodeReply, Assert.Single(await _whatsApp.AcceptedSendsToAsync(guessers[^1], 1)).Body);

            await WriteAsync(sender, $"LINK {challenge.GetProperty("code_without_phone").GetString()}");
            Assert.Equal(WhatsAppLinking.RefusedReply, (await _whatsApp.AcceptedSendsToAsync(sender, 2))[^1].Body);
            Assert.False((await me.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken)).GetProperty("linked").GetBoolean());
        }
        finally
        {
            // The allowance is the whole stack's: the other tests link without a phone too.
            await cache.GetDatabase().KeyDeleteAsync(LinkCodes.GuessesWithoutPhoneKey);
        }
    }

    [Fact]
    public async Task A_new_user_id_from_meta_moves_the_link_and_the_replaced_id_is_a_stranger()
    {
        var (previous, current) = (WhatsAppDriver.NewUserId(), WhatsAppDriver.NewUserId());
        using var me = await _tokens.ClientForAsync(Guid.NewGuid());
        await WriteAsync(previous, $"LINK {await RequestCodeAsync(me, "+" + WhatsAppDriver.NewPhone())}");
        await _whatsApp.AcceptedSendsToAsync(previous, 1);
        await WriteAsync(previous, "before");
        Assert.Equal("[Echo] before", (await _whatsApp.AcceptedSendsToAsync(previous, 2))[^1].Body);

        // The new id wrote before Meta announced it: its lookup is cached as linked to nobody.
        await WriteAsync(current, "who?");
        Assert.Equal(WhatsAppCloudApiOptions.DefaultRegistrationMessage, (await _whatsApp.AcceptedSendsToAsync(current, 1))[^1].Body);

        Assert.Equal((int)HttpStatusCode.OK, (await _whatsApp.ReplaceUserIdAsync(previous, current)).Status);
        await WhatsAppDriver.EventuallyAsync(async () => await LinkedUserIdAsync(me), linked => linked == current);
        Assert.Equal(current, await LinkedUserIdAsync(me));

        await WriteAsync(current, "after");
        Assert.Equal("[Echo] after", (await _whatsApp.AcceptedSendsToAsync(current, 2))[^1].Body);
        await WriteAsync(previous, "old id");
        Assert.Equal(WhatsAppCloudApiOptions.DefaultRegistrationMessage, (await _whatsApp.AcceptedSendsToAsync(previous, 3))[^1].Body);
    }

    [Fact]
    public async Task A_phone_linked_before_usernames_stays_linked_once_its_user_writes_without_it()
    {
        var phone = WhatsAppDriver.NewPhone();
        var userId = WhatsAppDriver.NewUserId();
        using var me = await _tokens.ClientForAsync(Guid.NewGuid());
        await _whatsApp.WriteThroughSimulatorAsync(new TextMessageToDeliver(phone, $"LINK {await RequestCodeAsync(me, "+" + phone)}"));
        await _whatsApp.AcceptedSendsToAsync(phone, 1);

        // Meta starts naming the phone's user id: Ava records it with the account the phone is linked to.
        await _whatsApp.WriteThroughSimulatorAsync(new TextMessageToDeliver(phone, "with my id", UserId: userId));
        var echo = (await _whatsApp.AcceptedSendsToAsync(phone, 2))[^1];
        Assert.Equal(("[Echo] with my id", RecordedSend.Phone), (echo.Body, echo.AddressedAs));
        await WhatsAppDriver.EventuallyAsync(async () => await LinkedUserIdAsync(me), linked => linked == userId);

        await WriteAsync(userId, "and now without the phone");
        Assert.Equal("[Echo] and now without the phone", (await _whatsApp.AcceptedSendsToAsync(userId, 1))[^1].Body);
        var link = await me.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken);
        Assert.Equal(("+" + phone, userId), (link.GetProperty("phone").GetString(), link.GetProperty("whatsapp_user_id").GetString()));
    }

    [Fact]
    public async Task Unlinking_an_account_linked_without_a_phone_makes_its_user_a_stranger_at_once()
    {
        var userId = WhatsAppDriver.NewUserId();
        using var me = await _tokens.ClientForAsync(Guid.NewGuid());
        await WriteAsync(userId, $"LINK {await RequestCodeAsync(me, "+" + WhatsAppDriver.NewPhone())}");
        await _whatsApp.AcceptedSendsToAsync(userId, 1);
        await WriteAsync(userId, "cached");
        Assert.Equal("[Echo] cached", (await _whatsApp.AcceptedSendsToAsync(userId, 2))[^1].Body);

        using (var unlink = await me.DeleteAsync("/me/whatsapp", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, unlink.StatusCode);
        }

        Assert.False((await me.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken)).GetProperty("linked").GetBoolean());
        await WriteAsync(userId, "still there?");
        Assert.Equal(WhatsAppCloudApiOptions.DefaultRegistrationMessage, (await _whatsApp.AcceptedSendsToAsync(userId, 3))[^1].Body);
    }

    /// <summary>Writes as a user who adopted the username "sheena.n": Meta names their user id, not their phone.</summary>
    private async Task WriteAsync(string userId, string text) =>
        Assert.Equal((int)HttpStatusCode.OK, (await _whatsApp.WriteThroughSimulatorAsync(new TextMessageToDeliver(null, text, UserId: userId, Username: "sheena.n"))).Status);

    /// <returns>The code a user who writes without a phone sends.</returns>
    private static async Task<string> RequestCodeAsync(HttpClient me, string phone) =>
        (await RequestChallengeAsync(me, phone)).GetProperty("code_without_phone").GetString()!;

    private static async Task<JsonElement> RequestChallengeAsync(HttpClient me, string phone)
    {
        using var response = await me.PostAsJsonAsync("/me/whatsapp", new { phone }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
    }

    private static async Task<string?> LinkedUserIdAsync(HttpClient me) =>
        (await me.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken)).GetProperty("whatsapp_user_id").GetString();

    private static async Task<List<(string Role, string Content, string? DeliveryStatus)>> HistoryAsync(HttpClient me)
    {
        var page = await me.GetFromJsonAsync<JsonElement>("/messages?channel=whatsapp", TestContext.Current.CancellationToken);
        return page.EnumerateArray()
            .Select(i => (i.GetProperty("role").GetString()!, i.GetProperty("content").GetString()!, i.GetProperty("delivery_status").GetString()))
            .ToList();
    }
}
