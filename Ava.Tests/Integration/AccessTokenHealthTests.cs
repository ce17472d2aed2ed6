using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ava.Tests.Integration;

/// <summary>An access token the Graph API refuses: sending waits, nothing fails, and it resumes when the token works.</summary>
[Collection(AvaStackCollection.Name)]
public sealed class AccessTokenHealthTests(AvaStackFixture stack)
{
    private readonly WhatsAppDriver _whatsApp = new(stack);
    private readonly AvaDatabase _database = new(stack);

    [Fact]
    public async Task While_the_token_is_refused_the_reply_waits_unfailed_and_health_is_degraded_in_the_dashboard_too_then_it_is_sent_once()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        var message = WhatsAppDriver.Text(phone, "are you there?");
        await _whatsApp.SetAccessTokenValidAsync(false);
        try
        {
            await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(message)));

            // The first instance to try is refused with 190 and pauses; its reply goes back to the outbox as it was.
            Assert.Equal("Degraded", await WhatsAppDriver.EventuallyAsync(_whatsApp.HealthAsync, health => health == "Degraded"));

            // The other instance pauses when it tries in turn; the reply waits, neither attempted nor failed, and the
            // Graph API is not hammered meanwhile.
            await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
            Assert.Equal(
                [new ReplyAttempts("pending", 0)],
                await _database.RepliesToAsync(phone));
            var calls = (await _whatsApp.ReadsOfAsync(message.Id!)).Select(r => (r.HttpStatus, r.ErrorCode))
                .Concat((await _whatsApp.SendsToAsync(phone)).Select(s => (s.HttpStatus, s.ErrorCode)))
                .ToList();
            Assert.InRange(calls.Count, 1, 4);
            Assert.All(calls, call => Assert.Equal((401, (int?)190), call));

            // The dashboard shows it, though a degraded /health answers 200: the AppHost checks every 30 s while healthy.
            using var dashboardTimeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            dashboardTimeout.CancelAfter(TimeSpan.FromSeconds(45));
            await stack.App.ResourceNotifications.WaitForResourceAsync(
                "webhookapi", update => update.Snapshot.HealthStatus == HealthStatus.Degraded, dashboardTimeout.Token);
        }
        finally
        {
            await _whatsApp.SetAccessTokenValidAsync(true);
        }

        // The next check passes (every 15 s while paused) and the reply goes, once, just after the message is marked read.
        var reply = Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1));
        Assert.Equal("[Echo] are you there?", reply.Body);
        var read = (await _whatsApp.ReadsOfAsync(message.Id!))[^1];
        Assert.Equal(200, read.HttpStatus);
        Assert.True(read.At <= reply.At);
        Assert.Equal(
            [new ReplyAttempts("sent", 1)],
            await _database.RepliesToAsync(phone));

        // Every instance resumes on its own next check, and reports healthy again.
        Assert.True(await WhatsAppDriver.EventuallyAsync(EveryInstanceHealthyAsync, healthy => healthy, TimeSpan.FromSeconds(45)));
        await stack.App.ResourceNotifications.WaitForResourceHealthyAsync("webhookapi", TestContext.Current.CancellationToken);
    }

    /// <summary>Whether /health answers healthy every time for a few seconds: the proxy spreads the probes over the instances.</summary>
    private async Task<bool> EveryInstanceHealthyAsync()
    {
        for (var probe = 0; probe < 10; probe++)
        {
            if (await _whatsApp.HealthAsync() != "Healthy")
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken);
        }

        return true;
    }

    [Fact]
    public async Task A_send_refused_for_its_number_is_retried_as_an_attempt_without_pausing_sending_and_goes_once_the_number_is_allowed()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        await _whatsApp.FailNextSendsAsync(phone, 2, 403, 10, "Application does not have permission for this action");

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "from a number not yet allowed"))));

        Assert.Equal("[Echo] from a number not yet allowed", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        Assert.Equal(
            [new ReplyAttempts("sent", 3)],
            await WhatsAppDriver.EventuallyAsync(() => _database.RepliesToAsync(phone), replies => replies.All(r => r.Status == "sent")));

        // The token itself was never in doubt: sending did not pause, and health stayed healthy throughout.
        Assert.Equal("Healthy", await _whatsApp.HealthAsync());
    }
}
