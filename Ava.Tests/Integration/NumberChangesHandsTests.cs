using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ava.WebhookApi.WhatsApp;
using Ava.WhatsApp.Contracts;
using Ava.WhatsAppSimulator;

namespace Ava.Tests.Integration;

/// <summary>
/// Phone numbers are recycled: a number's next holder must not write into, nor be answered from, the history of the
/// account it was linked for; and a user who changes number in WhatsApp keeps their link on the new one.
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class NumberChangesHandsTests(AvaStackFixture stack)
{
    private readonly AvaTokens _tokens = new(stack);
    private readonly WhatsAppDriver _whatsApp = new(stack);

    [Fact]
    public async Task A_numbers_next_holder_is_a_stranger_to_the_account_it_was_linked_for()
    {
        var (phone, previousHolder, nextHolder) = (WhatsAppDriver.NewPhone(), WhatsAppDriver.NewUserId(), WhatsAppDriver.NewUserId());
        using var owner = await _tokens.ClientForAsync(Guid.NewGuid());
        await WriteAsync(phone, previousHolder, $"LINK {await RequestCodeAsync(owner, "+" + phone)}");
        // As a person would, the holder writes on once the link is confirmed: two deliveries sent back to back may be
        // processed by two instances at once, and a message processed before its LINK commits is a stranger's.
        await _whatsApp.AcceptedSendsToAsync(phone, 1);
        await WriteAsync(phone, previousHolder, "my last message from this number");
        Assert.Contains("[Echo] my last message from this number", (await _whatsApp.AcceptedSendsToAsync(phone, 2)).Select(s => s.Body));

        await WriteAsync(phone, nextHolder, "hello, this number is mine now");

        Assert.Contains(WhatsAppCloudApiOptions.DefaultRegistrationMessage, (await _whatsApp.AcceptedSendsToAsync(phone, 3)).Select(s => s.Body));
        Assert.DoesNotContain("hello, this number is mine now", await HistoryAsync(owner));
        Assert.Equal(previousHolder, (await LinkAsync(owner)).GetProperty("whatsapp_user_id").GetString());
    }

    [Fact]
    public async Task Linking_a_number_its_previous_holder_still_has_takes_the_number_only_not_their_user_id()
    {
        var (phone, previousHolder, nextHolder) = (WhatsAppDriver.NewPhone(), WhatsAppDriver.NewUserId(), WhatsAppDriver.NewUserId());
        using var owner = await _tokens.ClientForAsync(Guid.NewGuid());
        using var newcomer = await _tokens.ClientForAsync(Guid.NewGuid());
        await WriteAsync(phone, previousHolder, $"LINK {await RequestCodeAsync(owner, "+" + phone)}");
        await _whatsApp.AcceptedSendsToAsync(phone, 1);

        await WriteAsync(phone, nextHolder, $"LINK {await RequestCodeAsync(newcomer, "+" + phone)}");
        await _whatsApp.AcceptedSendsToAsync(phone, 2);

        var newLink = await WhatsAppDriver.EventuallyAsync(async () => await LinkAsync(newcomer), link => link.GetProperty("linked").GetBoolean());
        Assert.Equal(("+" + phone, nextHolder), (newLink.GetProperty("phone").GetString(), newLink.GetProperty("whatsapp_user_id").GetString()));
        var oldLink = await LinkAsync(owner);
        Assert.Equal(
            (true, JsonValueKind.Null, previousHolder),
            (oldLink.GetProperty("linked").GetBoolean(), oldLink.GetProperty("phone").ValueKind, oldLink.GetProperty("whatsapp_user_id").GetString()));
    }

    [Fact]
    public async Task A_user_who_changes_number_in_whatsapp_stays_linked_on_the_new_one_and_the_old_one_is_nobodys()
    {
        var (oldPhone, newPhone) = (WhatsAppDriver.NewPhone(), WhatsAppDriver.NewPhone());
        using var me = await _tokens.ClientForAsync(Guid.NewGuid());
        await WriteAsync(oldPhone, null, $"LINK {await RequestCodeAsync(me, "+" + oldPhone)}");
        await _whatsApp.AcceptedSendsToAsync(oldPhone, 1);

        // Meta's system message: sent from the old number, naming the new one.
        var changed = WhatsAppDriver.Message(oldPhone, "system") with
        {
            System = new WebhookSystem($"User changed from {oldPhone} to {newPhone}", WebhookSystem.UserChangedNumber, WaId: newPhone),
        };
        using (var response = await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(changed))))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var link = await WhatsAppDriver.EventuallyAsync(async () => await LinkAsync(me), l => l.GetProperty("phone").GetString() == "+" + newPhone);
        Assert.Equal("+" + newPhone, link.GetProperty("phone").GetString());
        await WriteAsync(newPhone, null, "from my new number");
        Assert.Equal("[Echo] from my new number", (await _whatsApp.AcceptedSendsToAsync(newPhone, 1))[^1].Body);
        await WriteAsync(oldPhone, null, "the old number's next holder");
        Assert.Equal(WhatsAppCloudApiOptions.DefaultRegistrationMessage, (await _whatsApp.AcceptedSendsToAsync(oldPhone, 2))[^1].Body);
    }

    private async Task WriteAsync(string phone, string? userId, string text) =>
        Assert.Equal((int)HttpStatusCode.OK, (await _whatsApp.WriteThroughSimulatorAsync(new TextMessageToDeliver(phone, text, UserId: userId))).Status);

    private static async Task<string> RequestCodeAsync(HttpClient me, string phone)
    {
        using var response = await me.PostAsJsonAsync("/me/whatsapp", new { phone }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("code").GetString()!;
    }

    private static async Task<JsonElement> LinkAsync(HttpClient me) =>
        await me.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken);

    private static async Task<List<string>> HistoryAsync(HttpClient me) =>
        [.. (await me.GetFromJsonAsync<JsonElement>("/messages?channel=whatsapp", TestContext.Current.CancellationToken))
            .EnumerateArray()
            .Select(i => i.GetProperty("content").GetString()!)];
}
