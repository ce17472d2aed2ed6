using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ava.WebhookApi.WhatsApp.Processing;

namespace Ava.Tests.Integration;

/// <summary>Linking and unlinking while Redis is away.</summary>
[Collection(OutageStackCollection.Name)]
public sealed class WhatsAppLinkingOutageTests(OutageStackFixture stack)
{
    private readonly AvaDatabase _database = new(stack);
    private readonly WhatsAppDriver _whatsApp = new(stack);

    [Fact]
    public async Task A_link_while_redis_is_down_waits_alone_its_neighbours_are_answered_at_once()
    {
        var (linkedPhone, _) = await _database.LinkedUserAsync();
        var linkingPhone = WhatsAppDriver.NewPhone();
        using var me = await new AvaTokens(stack).ClientForAsync(Guid.NewGuid());
        using var codeResponse = await me.PostAsJsonAsync("/me/whatsapp", new { phone = "+" + linkingPhone }, TestContext.Current.CancellationToken);
        var code = (await codeResponse.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("code").GetString();

        await stack.StopAsync("cache");
        try
        {
            // One delivery: the LINK cannot be checked without Redis, the neighbour's message needs nothing of it.
            using var response = await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(
                WhatsAppDriver.Text(linkingPhone, $"LINK {code}"), WhatsAppDriver.Text(linkedPhone, "answer me now"))));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

            Assert.Equal("[Echo] answer me now", Assert.Single(await _whatsApp.AcceptedSendsToAsync(linkedPhone, 1)).Body);
            Assert.Empty(await _whatsApp.SendsToAsync(linkingPhone));
        }
        finally
        {
            await stack.StartAsync("cache");
        }

        // The test stack's Redis keeps nothing across a restart: the code is gone, and the sender is told so, once.
        Assert.Equal(WhatsAppLinking.WrongCodeReply, Assert.Single(await _whatsApp.AcceptedSendsToAsync(linkingPhone, 1)).Body);
        Assert.Single(await _whatsApp.AcceptedSendsToAsync(linkedPhone, 1));
    }

    [Fact]
    public async Task Unlinking_while_redis_is_down_succeeds_once_the_database_has_it()
    {
        var (_, userId) = await _database.LinkedUserAsync();
        using var me = await new AvaTokens(stack).ClientForAsync(userId);

        HttpStatusCode status;
        await stack.StopAsync("cache");
        try
        {
            using var response = await me.DeleteAsync("/me/whatsapp", TestContext.Current.CancellationToken);
            status = response.StatusCode;
        }
        finally
        {
            await stack.StartAsync("cache");
        }

        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.False((await me.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken)).GetProperty("linked").GetBoolean());
    }
}
