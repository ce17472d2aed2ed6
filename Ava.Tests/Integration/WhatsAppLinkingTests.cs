using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ava.Linking;
using Ava.MessagesApi.Me;
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
        using var me = await _tokens.ClientForAsync(userId, Email("journey"));

        await SendAsync(phone, "hello?");
        Assert.Equal(WhatsAppCloudApiOptions.DefaultRegistrationMessage, (await _whatsApp.AcceptedSendsToAsync(phone, 1))[^1].Body);
        Assert.StartsWith("Please create an account at ava.example.com and link your number", WhatsAppCloudApiOptions.DefaultRegistrationMessage, StringComparison.Ordinal);

        var code = await RequestCodeAsync(me, "+" + phone);
        await SendAsync(phone, $"LINK {code}");
        Assert.Equal(WhatsAppLinking.LinkedReply, (await _whatsApp.AcceptedSendsToAsync(phone, 2))[^1].Body);

        await SendAsync(phone, "now you know me");
        Assert.Equal("[Echo] now you know me", (await _whatsApp.AcceptedSendsToAsync(phone, 3))[^1].Body);

        var status = await me.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken);
        Assert.True(status.GetProperty("linked").GetBoolean());
        Assert.Equal("+" + phone, status.GetProperty("phone").GetString());

        var history = await WhatsAppDriver.EventuallyAsync(
            async () => await HistoryAsync(me),
            items => items.Count == 4 && items[0].DeliveryStatus == "sent");
        Assert.Equal(
            [("assistant", "[Echo] now you know me"), ("user", "now you know me"), ("assistant", WhatsAppLinking.LinkedReply), ("user", $"LINK {code}")],
            history.Select(i => (i.Role, i.Content)));

        using var stranger = await _tokens.ClientForAsync(Guid.NewGuid());
        Assert.Empty(await HistoryAsync(stranger));
    }

    [Fact]
    public async Task A_wrong_code_links_nothing_and_too_many_wrong_codes_lock_the_phone_out_even_with_the_right_one()
    {
        var phone = WhatsAppDriver.NewPhone();
        using var me = await _tokens.ClientForAsync(Guid.NewGuid());
        var code = await RequestCodeAsync(me, "+" + phone);
        var wrong = code == "000000" ? "111111" : "000000";

        for (var attempt = 1; attempt <= LinkCodes.MaxAttempts; attempt++)
        {
            await SendAsync(phone, $"link {wrong}");
            Assert.Equal(WhatsAppLinking.WrongCodeReply, (await _whatsApp.AcceptedSendsToAsync(phone, attempt))[^1].Body);
        }

        await SendAsync(phone, $"LINK {code}");
        Assert.Equal(WhatsAppLinking.RefusedReply, (await _whatsApp.AcceptedSendsToAsync(phone, LinkCodes.MaxAttempts + 1))[^1].Body);
        var status = await me.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken);
        Assert.False(status.GetProperty("linked").GetBoolean());
    }

    [Fact]
    public async Task Guesses_sent_in_one_delivery_are_counted_one_by_one_and_the_right_code_after_too_many_is_refused()
    {
        var phone = WhatsAppDriver.NewPhone();
        using var me = await _tokens.ClientForAsync(Guid.NewGuid());
        var code = await RequestCodeAsync(me, "+" + phone);
        var guesses = Enumerable.Range(0, LinkCodes.MaxAttempts)
            .Select(i => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(int.Parse(code, System.Globalization.CultureInfo.InvariantCulture) + i + 1) % 1_000_000:D6}"))
            .Append(code);

        using var response = await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(
            [.. guesses.Select(guess => WhatsAppDriver.Text(phone, $"LINK {guess}"))])));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var replies = await _whatsApp.AcceptedSendsToAsync(phone, LinkCodes.MaxAttempts + 1);
        Assert.Equal(LinkCodes.MaxAttempts, replies.Count(r => r.Body == WhatsAppLinking.WrongCodeReply));
        Assert.Equal(WhatsAppLinking.RefusedReply, Assert.Single(replies, r => r.Body != WhatsAppLinking.WrongCodeReply).Body);
        Assert.False((await me.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken)).GetProperty("linked").GetBoolean());
    }

    [Fact]
    public async Task A_phone_moves_to_another_account_only_with_the_same_proof_and_unlinking_forgets_it()
    {
        var phone = WhatsAppDriver.NewPhone();
        using var first = await _tokens.ClientForAsync(Guid.NewGuid());
        using var second = await _tokens.ClientForAsync(Guid.NewGuid(), Email("second"));
        await SendAsync(phone, $"LINK {await RequestCodeAsync(first, "+" + phone)}");
        await _whatsApp.AcceptedSendsToAsync(phone, 1);

        // Asking for the phone is not enough: without LINK from the phone it stays where it is.
        await RequestCodeAsync(second, "+" + phone);
        Assert.Equal("+" + phone, (await first.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken)).GetProperty("phone").GetString());

        await SendAsync(phone, $"LINK {await RequestCodeAsync(second, "+" + phone)}");
        Assert.Equal(WhatsAppLinking.LinkedReply, (await _whatsApp.AcceptedSendsToAsync(phone, 2))[^1].Body);
        Assert.False((await first.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken)).GetProperty("linked").GetBoolean());

        using (var unlink = await second.DeleteAsync("/me/whatsapp", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, unlink.StatusCode);
        }

        await SendAsync(phone, "who am I?");
        Assert.Equal(WhatsAppCloudApiOptions.DefaultRegistrationMessage, (await _whatsApp.AcceptedSendsToAsync(phone, 3))[^1].Body);
    }

    [Fact]
    public async Task Another_account_asking_for_codes_for_your_phone_cannot_take_it()
    {
        var phone = WhatsAppDriver.NewPhone();
        var attackersPhone = WhatsAppDriver.NewPhone();
        var victimId = Guid.NewGuid();
        var attackerId = Guid.NewGuid();
        using var victim = await _tokens.ClientForAsync(victimId, Email("victim"));
        using var attacker = await _tokens.ClientForAsync(attackerId, Email("attacker"));
        var victimsCode = await RequestCodeAsync(victim, "+" + phone);

        // The attacker asks for codes for the victim's phone for as long as Ava lets them.
        var attackersCodes = new List<string>();
        for (var request = 0; request < 60; request++)
        {
            using var response = await attacker.PostAsJsonAsync("/me/whatsapp", new { phone = "+" + phone }, TestContext.Current.CancellationToken);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
                break;
            }

            attackersCodes.Add((await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("code").GetString()!);
        }

        Assert.Equal(LinkCodes.CodesPerUser, attackersCodes.Count);
        Assert.DoesNotContain(victimsCode, attackersCodes);

        // Their codes name the victim's phone: from any other phone they link nothing.
        await SendAsync(attackersPhone, $"LINK {attackersCodes[^1]}");
        Assert.Equal(WhatsAppLinking.WrongCodeReply, (await _whatsApp.AcceptedSendsToAsync(attackersPhone, 1))[^1].Body);

        // The victim's code still links the victim.
        await SendAsync(phone, $"LINK {victimsCode}");
        Assert.Equal(WhatsAppLinking.LinkedReply, (await _whatsApp.AcceptedSendsToAsync(phone, 1))[^1].Body);
        Assert.True((await victim.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken)).GetProperty("linked").GetBoolean());
        Assert.False((await attacker.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken)).GetProperty("linked").GetBoolean());
    }

    [Fact]
    public async Task A_code_pending_for_one_account_is_never_issued_to_another()
    {
        var phone = WhatsAppDriver.NewPhone();
        using var victim = await _tokens.ClientForAsync(Guid.NewGuid(), Email("owner-of-the-code"));
        var victimsCode = await RequestCodeAsync(victim, "+" + phone);
        await using var redis = await AvaCache.ConnectAsync(stack);

        // Another account for the same phone draws the very same code first.
        var issued = await LinkCodeIssuer.IssueAsync(
            redis.GetDatabase(),
            new PendingLink(Guid.NewGuid(), phone, "someone-else"),
            [victimsCode, .. LinkCodeIssuer.NewCandidates()],
            LinkCodeIssuer.NewCodeWithoutPhone());

        Assert.NotNull(issued);
        Assert.NotEqual(victimsCode, issued.Code);
        await SendAsync(phone, $"LINK {victimsCode}");
        Assert.Equal(WhatsAppLinking.LinkedReply, (await _whatsApp.AcceptedSendsToAsync(phone, 1))[^1].Body);
    }

    [Fact]
    public async Task Asking_for_a_new_code_voids_the_previous_one()
    {
        var phone = WhatsAppDriver.NewPhone();
        using var me = await _tokens.ClientForAsync(Guid.NewGuid(), Email("forgetful"));
        var first = await RequestCodeAsync(me, "+" + phone);
        var second = await RequestCodeAsync(me, "+" + phone);

        await SendAsync(phone, $"LINK {first}");
        Assert.Equal(WhatsAppLinking.WrongCodeReply, (await _whatsApp.AcceptedSendsToAsync(phone, 1))[^1].Body);

        await SendAsync(phone, $"LINK {second}");
        Assert.Equal(WhatsAppLinking.LinkedReply, (await _whatsApp.AcceptedSendsToAsync(phone, 2))[^1].Body);
    }

    [Fact]
    public async Task Asking_for_more_codes_than_the_limit_is_a_429_problem_that_says_when_to_ask_again()
    {
        using var me = await _tokens.ClientForAsync(Guid.NewGuid());
        for (var request = 0; request < LinkCodes.CodesPerUser; request++)
        {
            await RequestCodeAsync(me, "+" + WhatsAppDriver.NewPhone());
        }

        // The limit is the account's: another phone does not reset it.
        using var response = await me.PostAsJsonAsync("/me/whatsapp", new { phone = "+" + WhatsAppDriver.NewPhone() }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.InRange(response.Headers.RetryAfter?.Delta?.TotalSeconds ?? -1, 1, 600);
        Assert.Equal(429, (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task One_phone_gets_a_limited_number_of_codes_however_many_accounts_ask()
    {
        var phone = WhatsAppDriver.NewPhone();
        for (var account = 0; account < LinkCodes.CodesPerPhone / LinkCodes.CodesPerUser; account++)
        {
            using var asker = await _tokens.ClientForAsync(Guid.NewGuid());
            for (var request = 0; request < LinkCodes.CodesPerUser; request++)
            {
                await RequestCodeAsync(asker, "+" + phone);
            }
        }

        using var another = await _tokens.ClientForAsync(Guid.NewGuid());
        using var response = await another.PostAsJsonAsync("/me/whatsapp", new { phone = "+" + phone }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task An_anonymous_supabase_user_cannot_link_a_phone()
    {
        using var anonymous = await _tokens.ClientForAsync(Guid.NewGuid(), new Dictionary<string, object> { ["is_anonymous"] = true });

        using var response = await anonymous.PostAsJsonAsync("/me/whatsapp", new { phone = "+" + WhatsAppDriver.NewPhone() }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_code_sent_from_another_phone_links_nothing()
    {
        var phone = WhatsAppDriver.NewPhone();
        var otherPhone = WhatsAppDriver.NewPhone();
        using var me = await _tokens.ClientForAsync(Guid.NewGuid(), Email("owner"));
        var code = await RequestCodeAsync(me, "+" + phone);

        await SendAsync(otherPhone, $"LINK {code}");

        Assert.Equal(WhatsAppLinking.WrongCodeReply, (await _whatsApp.AcceptedSendsToAsync(otherPhone, 1))[^1].Body);
        Assert.False((await me.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken)).GetProperty("linked").GetBoolean());

        // The code was not spent by the other phone: from the phone it names it still links.
        await SendAsync(phone, $"LINK {code}");
        Assert.Equal(WhatsAppLinking.LinkedReply, (await _whatsApp.AcceptedSendsToAsync(phone, 1))[^1].Body);
    }

    [Fact]
    public async Task The_account_a_phone_moved_away_from_is_told_in_its_history()
    {
        var phone = WhatsAppDriver.NewPhone();
        using var first = await _tokens.ClientForAsync(Guid.NewGuid());
        using var second = await _tokens.ClientForAsync(Guid.NewGuid());
        await SendAsync(phone, $"LINK {await RequestCodeAsync(first, "+" + phone)}");
        await _whatsApp.AcceptedSendsToAsync(phone, 1);

        await SendAsync(phone, $"LINK {await RequestCodeAsync(second, "+" + phone)}");
        await _whatsApp.AcceptedSendsToAsync(phone, 2);

        var history = await WhatsAppDriver.EventuallyAsync(async () => await HistoryAsync(first), items => items.Count >= 3);
        Assert.Equal(
            ("assistant", $"Your WhatsApp number +{phone} was linked to another Ava account. Its messages no longer appear here."),
            (history[0].Role, history[0].Content));
        Assert.DoesNotContain(await HistoryAsync(second), i => i.Content.Contains("another Ava account", StringComparison.Ordinal));
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

    private static Dictionary<string, object> Email(string name) => new() { ["email"] = $"{name}@example.com" };

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
        return page.EnumerateArray()
            .Select(i => (i.GetProperty("role").GetString()!, i.GetProperty("content").GetString()!, i.GetProperty("delivery_status").GetString()))
            .ToList();
    }
}
