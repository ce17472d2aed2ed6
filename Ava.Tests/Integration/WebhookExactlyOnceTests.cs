using System.Net;

namespace Ava.Tests.Integration;

/// <summary>Exactly once per wamid, across concurrent deliveries, two webhook instances, and a crashed claim.</summary>
[Collection(AvaStackCollection.Name)]
public sealed class WebhookExactlyOnceTests(AvaStackFixture stack)
{
    private readonly WhatsAppDriver _whatsApp = new(stack);
    private readonly AvaDatabase _database = new(stack);

    [Fact]
    public async Task Twenty_concurrent_copies_of_a_delivery_across_both_instances_make_one_reply()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        var body = WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "storm")));

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => _whatsApp.PostSignedAsync(body)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        await WhatsAppDriver.EventuallyAsync(
            () => _database.ScalarAsync<long>("SELECT count(*) FROM inbound_deliveries WHERE body = $1 AND processed_at IS NOT NULL", body),
            processed => processed == 20);
        Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1));
        Assert.Equal(2, await _database.ScalarAsync<long>("SELECT count(*) FROM messages WHERE user_id = $1", userId));
    }

    [Fact]
    public async Task A_delivery_claimed_by_an_instance_that_died_is_taken_over_when_its_lease_expires()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        var body = WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "after the crash")));

        // As a crashed instance leaves it: claimed once, lease run out, never finished.
        await _database.ExecuteAsync(
            "INSERT INTO inbound_deliveries (body, attempts, locked_until) VALUES ($1, 1, now() - interval '1 second')", body);

        Assert.Equal("[Echo] after the crash", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
    }

    [Fact]
    public async Task A_reply_claimed_by_an_instance_that_died_before_sending_is_sent_once_its_lease_expires()
    {
        var phone = WhatsAppDriver.NewPhone();
        var wamid = WhatsAppDriver.NewWamid();

        await _database.ExecuteAsync(
            """
            INSERT INTO outbound_replies (inbound_wamid, phone_number_id, to_phone, body, attempts, locked_until)
            VALUES ($1, $2, $3, 'left behind', 1, now() - interval '1 second')
            """,
            wamid, WhatsAppDriver.PhoneNumberId, phone);

        Assert.Equal("left behind", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
    }
}
