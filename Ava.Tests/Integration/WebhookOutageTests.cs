using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ava.Linking;
using Ava.WebhookApi.WhatsApp.Processing;

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

    [Fact]
    public async Task A_link_message_waits_out_a_redis_outage_and_is_answered_without_it_counting_as_a_failure()
    {
        var phone = WhatsAppDriver.NewPhone();
        using var me = await new AvaTokens(stack).ClientForAsync(Guid.NewGuid());
        using var codeResponse = await me.PostAsJsonAsync("/me/whatsapp", new { phone = "+" + phone }, TestContext.Current.CancellationToken);
        var code = (await codeResponse.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("code").GetString();
        var body = WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, $"LINK {code}")));

        await stack.StopAsync("cache");
        try
        {
            using var response = await _whatsApp.PostSignedAsync(body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

            // Several processing rounds pass while Redis is away; none of them may count against the delivery.
            await Task.Delay(TimeSpan.FromSeconds(6), TestContext.Current.CancellationToken);
            Assert.Equal([(Outcome: (string?)null, Attempts: 0)], await DeliveriesOfAsync(body));
        }
        finally
        {
            await stack.StartAsync("cache");
        }

        // The test stack's Redis keeps nothing across a restart, so the code is gone: the sender is told so, once.
        Assert.Equal(WhatsAppLinking.WrongCodeReply, Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        Assert.Equal([(Outcome: (string?)"processed", Attempts: 0)], await DeliveriesOfAsync(body));

        // Checks that waited in the client's queue through the outage ran after it, beside the last round's own: the
        // message still counts once against its sender (counted more, a sender trying again later would be refused).
        await using var cache = await AvaCache.ConnectAsync(stack);
        Assert.Equal("1", (string?)await cache.GetDatabase().StringGetAsync(LinkCodes.AttemptsKeyFor(phone)));
    }

    /// <summary>The stored deliveries of this body: how processing ended (null while it has not), and the failures it counted.</summary>
    private Task<List<(string? Outcome, int Attempts)>> DeliveriesOfAsync(byte[] body) =>
        _database.QueryAsync(
            "SELECT CASE WHEN processed_at IS NOT NULL THEN outcome::text END, attempts FROM inbound_deliveries WHERE body = $1",
            row => (row.IsDBNull(0) ? null : row.GetString(0), row.GetInt32(1)),
            body);

    [Fact]
    public async Task A_graph_api_failing_many_times_in_a_row_delays_the_reply_but_never_fails_it()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        await _whatsApp.FailNextSendsAsync(phone, 15, 503, 131016, "Service unavailable");

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "persist"))));

        var accepted = Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1));
        Assert.Equal("[Echo] persist", accepted.Body);
        Assert.Equal(16, (await _whatsApp.SendsToAsync(phone)).Count);
        Assert.Equal(
            [new ReplyAttempts("sent", 16)],
            await _database.RepliesToAsync(phone));
    }

    [Fact]
    public async Task Stopping_the_webhook_while_a_send_is_in_flight_lets_it_finish_and_never_sends_it_again()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        await _whatsApp.DelayNextSendsAsync(phone, 1, seconds: 4);

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "slow goodbye"))));
        await Task.Delay(TimeSpan.FromSeconds(1.5), TestContext.Current.CancellationToken);
        await stack.StopAsync("webhookapi");
        await stack.StartAsync("webhookapi");

        // Longer than a claim's lease: a send abandoned by the stop would have been taken over and made again by now.
        await Task.Delay(TimeSpan.FromSeconds(16), TestContext.Current.CancellationToken);
        Assert.Equal("[Echo] slow goodbye", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        Assert.Equal(
            [new ReplyAttempts("sent", 1)],
            await _database.RepliesToAsync(phone));
    }
}
