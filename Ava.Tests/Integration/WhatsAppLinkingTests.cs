using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ava.Data.Users;
using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Processing;

namespace Ava.Tests.Integration;

/// <summary>Linking a WhatsApp number: a code from the API, sent from the phone as LINK &lt;code&gt;.</summary>
[Collection(AvaStackCollection.Name)]
public sealed class WhatsAppLinkingTests(AvaStackFixture stack)
{
    private readonly AvaTokens _tokens = new(stack);
    private readonly WhatsAppDriver _whatsApp = new(stack);
    private readonly AvaDatabase _database = new(stack);

    [Fact]
    public async Task The_full_journey_from_stranger_to_linked_user_with_a_private_history()
    {
        var phone = WhatsAppDriver.NewPhone();
        var userId = Guid.NewGuid();
        using var me = await _tokens.ClientForAsync(userId);

        await SendAsync(phone, "hello?");
        Assert.Equal(WhatsAppOptions.DefaultRegistrationMessage, (await _whatsApp.AcceptedSendsToAsync(phone, 1))[^1].Body);
        Assert.StartsWith("Please create an account at ava.example.com and link your number", WhatsAppOptions.DefaultRegistrationMessage, StringComparison.Ordinal);

        var code = await RequestCodeAsync(me, "+" + phone);
        await SendAsync(phone, $"LINK {code}");
        Assert.Equal(PhoneLinking.LinkedReply, (await _whatsApp.AcceptedSendsToAsync(phone, 2))[^1].Body);

        await SendAsync(phone, "now you know me");
        Assert.Equal("[Echo] now you know me", (await _whatsApp.AcceptedSendsToAsync(phone, 3))[^1].Body);

        var status = await me.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken);
        Assert.True(status.GetProperty("linked").GetBoolean());
        Assert.Equal("+" + phone, status.GetProperty("phone").GetString());

        var history = await WhatsAppDriver.EventuallyAsync(
            async () => await HistoryAsync(me),
            items => items.Count == 4 && items[0].DeliveryStatus == "sent");
        Assert.Equal(
            [("assistant", "[Echo] now you know me"), ("user", "now you know me"), ("assistant", PhoneLinking.LinkedReply), ("user", $"LINK {code}")],
            history.Select(i => (i.Role, i.Content)));

        using var stranger = await _tokens.ClientForAsync(Guid.NewGuid());
        Assert.Empty(await HistoryAsync(stranger));
    }

    [Fact]
    public async Task A_wrong_code_links_nothing_and_too_many_wrong_codes_void_the_right_one()
    {
        var phone = WhatsAppDriver.NewPhone();
        using var me = await _tokens.ClientForAsync(Guid.NewGuid());
        var code = await RequestCodeAsync(me, "+" + phone);
        var wrong = code == "000000" ? "111111" : "000000";

        for (var attempt = 1; attempt <= 5; attempt++)
        {
            await SendAsync(phone, $"link {wrong}");
            Assert.Equal(PhoneLinking.WrongCodeReply, (await _whatsApp.AcceptedSendsToAsync(phone, attempt))[^1].Body);
        }

        await SendAsync(phone, $"LINK {code}");
        Assert.Equal(PhoneLinking.WrongCodeReply, (await _whatsApp.AcceptedSendsToAsync(phone, 6))[^1].Body);
        var status = await me.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken);
        Assert.False(status.GetProperty("linked").GetBoolean());
    }

    [Fact]
    public async Task A_phone_moves_to_another_account_only_with_the_same_proof_and_unlinking_forgets_it()
    {
        var phone = WhatsAppDriver.NewPhone();
        using var first = await _tokens.ClientForAsync(Guid.NewGuid());
        using var second = await _tokens.ClientForAsync(Guid.NewGuid());
        await SendAsync(phone, $"LINK {await RequestCodeAsync(first, "+" + phone)}");
        await _whatsApp.AcceptedSendsToAsync(phone, 1);

        // Asking for the phone is not enough: without LINK from the phone it stays where it is.
        await RequestCodeAsync(second, "+" + phone);
        Assert.Equal("+" + phone, (await first.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken)).GetProperty("phone").GetString());

        await SendAsync(phone, $"LINK {await RequestCodeAsync(second, "+" + phone)}");
        Assert.Equal(PhoneLinking.LinkedReply, (await _whatsApp.AcceptedSendsToAsync(phone, 2))[^1].Body);
        Assert.False((await first.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken)).GetProperty("linked").GetBoolean());

        using (var unlink = await second.DeleteAsync("/me/whatsapp", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, unlink.StatusCode);
        }

        await SendAsync(phone, "who am I?");
        Assert.Equal(WhatsAppOptions.DefaultRegistrationMessage, (await _whatsApp.AcceptedSendsToAsync(phone, 3))[^1].Body);
    }

    [Fact]
    public async Task A_lookup_cached_before_a_relink_does_not_send_the_phones_messages_to_the_old_owner()
    {
        var (phone, oldOwner) = await _database.LinkedUserAsync();
        var newOwner = Guid.NewGuid();
        using var me = await _tokens.ClientForAsync(newOwner);
        await using var redis = await AvaCache.ConnectAsync(stack);
        var cache = redis.GetDatabase();

        // Another instance looks the phone up just before the link commits, and writes its answer just after.
        var versionBefore = LinkedUserCache.VersionOf(await cache.StringGetAsync(LinkedUserCache.VersionKeyFor(phone)));
        await SendAsync(phone, $"LINK {await RequestCodeAsync(me, "+" + phone)}");
        await _whatsApp.AcceptedSendsToAsync(phone, 1);
        await cache.StringSetAsync(LinkedUserCache.KeyFor(phone), LinkedUserCache.Entry(versionBefore, oldOwner), LinkedUserCache.LinkedTimeToLive);

        await SendAsync(phone, "whose am I?");

        Assert.Equal("[Echo] whose am I?", (await _whatsApp.AcceptedSendsToAsync(phone, 2))[^1].Body);
        Assert.Equal(
            [newOwner],
            await _database.QueryAsync<Guid>("SELECT user_id FROM messages WHERE content = 'whose am I?' AND user_id IN ($1, $2)", oldOwner, newOwner));
    }

    [Theory]
    [InlineData("15551234567")]
    [InlineData("+0123456789")]
    [InlineData("+1234")]
    [InlineData("+1 555 CALL NOW")]
    [InlineData("")]
    public async Task A_phone_that_is_not_international_form_is_a_400_problem(string phone)
    {
        using var me = await _tokens.ClientForAsync(Guid.NewGuid());

        using var response = await me.PostAsJsonAsync("/me/whatsapp", new { phone }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.True(problem.GetProperty("errors").TryGetProperty("phone", out _));
    }

    [Fact]
    public async Task A_phone_typed_with_spaces_and_dashes_is_normalised()
    {
        using var me = await _tokens.ClientForAsync(Guid.NewGuid());

        using var response = await me.PostAsJsonAsync("/me/whatsapp", new { phone = "+1 (555) 012-3456" }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var challenge = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal("+15550123456", challenge.GetProperty("phone").GetString());
        Assert.Matches("^[0-9]{6}$", challenge.GetProperty("code").GetString());
    }

    private async Task SendAsync(string phone, string text)
    {
        using var response = await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, text))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<string> RequestCodeAsync(HttpClient me, string phone)
    {
        using var response = await me.PostAsJsonAsync("/me/whatsapp", new { phone }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("code").GetString()!;
    }

    private static async Task<List<(string Role, string Content, string? DeliveryStatus)>> HistoryAsync(HttpClient me)
    {
        var page = await me.GetFromJsonAsync<JsonElement>("/messages?channel=whatsapp", TestContext.Current.CancellationToken);
        return page.GetProperty("items").EnumerateArray()
            .Select(i => (i.GetProperty("role").GetString()!, i.GetProperty("content").GetString()!, i.GetProperty("delivery_status").GetString()))
            .ToList();
    }
}
