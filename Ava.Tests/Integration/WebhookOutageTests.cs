using System.Net;

namespace Ava.Tests.Integration;

/// <summary>Postgres or Redis going away costs no message: deliveries are spooled, lookups fall back.</summary>
[Collection(OutageStackCollection.Name)]
public sealed class WebhookOutageTests(OutageStackFixture stack)
{
    private readonly WhatsAppDriver _whatsApp = new(stack);
    private readonly AvaDatabase _database = new(stack);

    [Fact]
    public async Task A_delivery_while_postgres_is_down_is_acknowledged_spooled_and_answered_when_it_is_back()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        var body = WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "are you there?")));

        await stack.StopAsync("postgres");
        HttpStatusCode status;
        try
        {
            using var response = await _whatsApp.PostSignedAsync(body);
            status = response.StatusCode;
        }
        finally
        {
            await stack.StartAsync("postgres");
        }

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("[Echo] are you there?", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        Assert.Equal(1, await _database.ScalarAsync<long>("SELECT count(*) FROM inbound_deliveries WHERE body = $1", body));
        Assert.Equal(2, await _database.ScalarAsync<long>("SELECT count(*) FROM messages WHERE user_id = $1", userId));
    }

    [Fact]
    public async Task While_redis_is_down_linked_users_are_still_found_in_postgres()
    {
        var (phone, _) = await _database.LinkedUserAsync();

        await stack.StopAsync("cache");
        try
        {
            using var response = await _whatsApp.PostSignedAsync(
                WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "no cache"))));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

            Assert.Equal("[Echo] no cache", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        }
        finally
        {
            await stack.StartAsync("cache");
        }
    }
}
