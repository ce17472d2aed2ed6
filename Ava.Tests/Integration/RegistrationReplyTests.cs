using System.Net;
using Ava.WebhookApi.WhatsApp;

namespace Ava.Tests.Integration;

/// <summary>A stranger is told how to register once in a while, not on every message.</summary>
[Collection(AvaStackCollection.Name)]
public sealed class RegistrationReplyTests(AvaStackFixture stack)
{
    private readonly WhatsAppDriver _whatsApp = new(stack);
    private readonly AvaDatabase _database = new(stack);

    [Fact]
    public async Task A_stranger_writing_three_times_gets_the_registration_instructions_once()
    {
        var phone = WhatsAppDriver.NewPhone();
        var messages = Enumerable.Range(1, 3).Select(i => WhatsAppDriver.Text(phone, $"hello? ({i})")).ToList();

        // Three deliveries, which the two webhook instances may well process at the same time.
        foreach (var message in messages)
        {
            using var response = await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(message)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(3, await WhatsAppDriver.EventuallyAsync(
            () => _database.ScalarAsync<long>("SELECT count(*) FROM inbound_messages WHERE from_phone = $1", phone), count => count == 3));
        var answered = Assert.Single(await _database.QueryAsync<string>("SELECT inbound_wamid FROM outbound_replies WHERE to_phone = $1", phone));
        Assert.Equal(WhatsAppCloudApiOptions.DefaultRegistrationMessage, Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);

        // Only the message answered shows blue ticks: the others are not marked read.
        foreach (var message in messages)
        {
            Assert.Equal(message.Id == answered ? 1 : 0, (await _whatsApp.ReadsOfAsync(message.Id!)).Count);
        }
    }
}
