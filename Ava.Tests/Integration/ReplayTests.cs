using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ava.AppHost;
using Ava.AppHost.WhatsApp;
using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Replay;
using Ava.WhatsApp.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ava.Tests.Integration;

/// <summary>
/// What failed for good can be seen and done again by an operator — through the webhook's admin endpoints with a
/// service-role token, or the dashboard's "Replay failed" — without anything being done twice, and without sending
/// a reply Meta would refuse.
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class ReplayTests(AvaStackFixture stack)
{
    private readonly WhatsAppDriver _whatsApp = new(stack);
    private readonly AvaDatabase _database = new(stack);
    private readonly AvaTokens _tokens = new(stack);

    [Fact]
    public async Task A_reply_refused_for_good_is_listed_and_once_replayed_is_sent_and_marked_sent()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        var replyId = await FailedReplyAsync(phone, "undeliverable for now");

        var listed = Assert.Single((await ListFailedAsync()).Replies, r => r.Id == replyId);
        Assert.Equal((131026, "Message undeliverable", true), (listed.ErrorCode, listed.ErrorTitle, listed.WindowOpen));
        Assert.Equal("*******" + phone[^4..], listed.To);
        Assert.Equal("failed", await HistoryStatusAsync(userId));

        var replayed = await ReplayAsync(new ReplayRequest(Deliveries: null, Replies: [replyId], All: false));

        Assert.Equal([replyId], replayed.Replies.ReplayedIds);
        Assert.Empty(replayed.Replies.Refusals);
        Assert.Equal("[Echo] undeliverable for now", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        Assert.Equal("sent", await WhatsAppDriver.EventuallyAsync(() => ReplyStatusAsync(replyId), status => status == "sent"));
        Assert.Equal("sent", await WhatsAppDriver.EventuallyAsync(() => HistoryStatusAsync(userId), status => status == "sent"));
        Assert.DoesNotContain((await ListFailedAsync()).Replies, r => r.Id == replyId);

        // A second replay of the same reply finds nothing failed, and sends nothing.
        var again = await ReplayAsync(new ReplayRequest(Deliveries: null, Replies: [replyId], All: false));
        Assert.Equal(0, again.Replies.Replayed);
        Assert.Equal([replyId], again.Replies.NotFailedIds);
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        Assert.Equal([400, 200], (await _whatsApp.SendsToAsync(phone)).Select(s => s.HttpStatus));
    }

    [Fact]
    public async Task A_failed_reply_whose_window_has_closed_is_refused_with_metas_reason_and_not_sent()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        var replyId = await FailedReplyAsync(phone, "too late to replay");

        // As a day later: the 24-hour window of the message it answers has closed.
        await _database.ExecuteAsync("UPDATE outbound_replies SET expires_at = now() - interval '1 hour' WHERE id = $1", replyId);
        Assert.False(Assert.Single((await ListFailedAsync()).Replies, r => r.Id == replyId).WindowOpen);

        var replayed = await ReplayAsync(new ReplayRequest(Deliveries: null, Replies: [replyId], All: false));

        Assert.Empty(replayed.Replies.ReplayedIds);
        var refusal = Assert.Single(replayed.Replies.Refusals);
        Assert.Equal((replyId, 131047, "Re-engagement message"), (refusal.Id, refusal.ErrorCode, refusal.ErrorTitle));
        Assert.Equal(1, replayed.Replies.Refused);
        Assert.Equal(
            [("failed", (int?)131026)],
            await _database.QueryAsync(
                "SELECT status::text, error_code FROM outbound_replies WHERE id = $1",
                row => (row.GetString(0), row.IsDBNull(1) ? null : (int?)row.GetInt32(1)),
                replyId));
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        Assert.Equal([400], (await _whatsApp.SendsToAsync(phone)).Select(s => s.HttpStatus));
    }

    [Fact]
    public async Task A_delivery_set_aside_fails_again_when_replayed_while_its_fault_lasts_and_is_answered_once_when_fixed()
    {
        var poisoned = WhatsAppDriver.Text(WhatsAppDriver.NewPhone(), "poison");
        var body = WhatsAppDriver.Notification(WhatsAppDriver.Messages(poisoned));
        var maxAttempts = new WhatsAppProcessingOptions().MaxProcessingAttempts;
        long deliveryId;
        await using (await _database.PoisonAsync(poisoned.Id!))
        {
            // As the processor leaves a delivery one failure short of being set aside: the next one sets it aside.
            deliveryId = await _database.ScalarAsync<long>(
                "INSERT INTO inbound_deliveries (body, attempts) VALUES ($1, $2) RETURNING id", body, maxAttempts - 1);
            Assert.Equal("failed", await WhatsAppDriver.EventuallyAsync(() => OutcomeAsync(deliveryId), outcome => outcome == "failed"));

            var listed = Assert.Single((await ListFailedAsync()).Deliveries, d => d.Id == deliveryId);
            Assert.Equal(maxAttempts, listed.Attempts);
            Assert.Contains("poisoned for a test", listed.Error, StringComparison.Ordinal);

            var replayed = await ReplayAsync(new ReplayRequest(Deliveries: [deliveryId], Replies: null, All: false));
            Assert.Equal([deliveryId], replayed.Deliveries.ReplayedIds);

            // Back in the inbox with its failures forgotten, it fails again while the fault lasts.
            Assert.Equal(
                1,
                await WhatsAppDriver.EventuallyAsync(
                    () => _database.ScalarAsync<long>(
                        "SELECT count(*) FROM inbound_deliveries WHERE id = $1 AND processed_at IS NULL AND attempts BETWEEN 1 AND 3 AND error LIKE '%poisoned%'",
                        deliveryId),
                    failing => failing == 1));
            Assert.Empty(await _whatsApp.SendsToAsync(poisoned.From!));
        }

        // Fixed: its next retry answers it.
        Assert.Single(await _whatsApp.AcceptedSendsToAsync(poisoned.From!, 1));
        Assert.Equal("processed", await WhatsAppDriver.EventuallyAsync(() => OutcomeAsync(deliveryId), outcome => outcome == "processed"));

        // A copy of it set aside meanwhile, replayed, meets the exactly-once gate: nothing more is sent.
        var copyId = await _database.ScalarAsync<long>(
            "INSERT INTO inbound_deliveries (body, processed_at, outcome, attempts, error) VALUES ($1, now(), 'failed', $2, 'set aside') RETURNING id",
            body, maxAttempts);
        var copy = await ReplayAsync(new ReplayRequest(Deliveries: [copyId, deliveryId], Replies: null, All: false));
        Assert.Equal([copyId], copy.Deliveries.ReplayedIds);
        Assert.Equal([deliveryId], copy.Deliveries.NotFailedIds);
        Assert.Equal("processed", await WhatsAppDriver.EventuallyAsync(() => OutcomeAsync(copyId), outcome => outcome == "processed"));
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        Assert.Single(await _whatsApp.SendsToAsync(poisoned.From!));
    }

    [Fact]
    public async Task Replay_failed_in_the_dashboard_replays_every_failed_reply_still_in_its_window_and_reports_the_counts()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        var replyId = await FailedReplyAsync(phone, "replayed from the dashboard");

        // As a click on the command of one of the webhook's instances in the dashboard.
        var result = await stack.App.Services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(
            await AnInstanceOfAsync("webhookapi"), ReplayCommandExtensions.ReplayCommandName, TestContext.Current.CancellationToken);

        Assert.True(result.Success, result.Message);
        Assert.Matches(@"^Replayed \d+ failed deliver(y|ies) and [1-9]\d* failed repl(y|ies)", result.Message);
        Assert.Equal("[Echo] replayed from the dashboard", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        Assert.Equal("sent", await WhatsAppDriver.EventuallyAsync(() => ReplyStatusAsync(replyId), status => status == "sent"));
    }

    [Fact]
    public async Task Only_a_short_lived_admin_token_signed_with_the_admin_key_opens_the_admin_endpoints_and_the_webhook_never_looks_at_tokens()
    {
        var adminKey = await stack.GetParameterAsync("admin-jwt-secret");
        var otherSecret = ServiceRoleToken.Create("a secret that is not the stack's admin key at all", TimeSpan.FromMinutes(5));

        // The users' key signs every user's token (Supabase's JWT secret): whoever holds it is no admin for that.
        var signedWithUsersKey = ServiceRoleToken.Create(await stack.GetParameterAsync("jwt-secret"), TimeSpan.FromMinutes(5));
        var longLived = ServiceRoleToken.Create(adminKey, TimeSpan.FromDays(1));
        var otherAudience = AdminKeyToken(adminKey, issuer: "ava-admin", audience: "authenticated");
        var otherIssuer = AdminKeyToken(adminKey, issuer: "https://ava-test.supabase.co/auth/v1", audience: "ava-webhook-admin");

        using var anonymous = await SendAsync(HttpMethod.Get, "/admin/failed", token: null);
        using var user = await SendAsync(HttpMethod.Get, "/admin/failed", await _tokens.ForAsync(Guid.NewGuid()));
        using var forged = await SendAsync(HttpMethod.Get, "/admin/failed", otherSecret);
        using var unsigned = await SendAsync(HttpMethod.Get, "/admin/failed", AvaTokens.Unsigned(Guid.NewGuid()));
        using var replayAnonymously = await SendAsync(HttpMethod.Post, "/admin/replay", token: null, """{"all":true}""");
        using var usersKey = await SendAsync(HttpMethod.Get, "/admin/failed", signedWithUsersKey);
        using var forADay = await SendAsync(HttpMethod.Get, "/admin/failed", longLived);
        using var notForAdmin = await SendAsync(HttpMethod.Get, "/admin/failed", otherAudience);
        using var notOurs = await SendAsync(HttpMethod.Get, "/admin/failed", otherIssuer);
        using var admin = await SendAsync(HttpMethod.Get, "/admin/failed", await _tokens.ServiceRoleAsync());

        Assert.Equal(
            [
                HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized,
                HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.OK,
            ],
            [
                anonymous.StatusCode, user.StatusCode, forged.StatusCode, unsigned.StatusCode, replayAnonymously.StatusCode,
                usersKey.StatusCode, forADay.StatusCode, notForAdmin.StatusCode, notOurs.StatusCode, admin.StatusCode,
            ]);
        Assert.Equal("application/problem+json", user.Content.Headers.ContentType?.MediaType);

        // An admin token without the service role is no admin's.
        using var roleless = await SendAsync(HttpMethod.Get, "/admin/failed", AdminKeyToken(adminKey, "ava-admin", "ava-webhook-admin", role: "authenticated"));
        Assert.Equal(HttpStatusCode.Forbidden, roleless.StatusCode);

        // Meta's deliveries are checked by their signature alone; a bearer token on one changes nothing.
        var body = WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(WhatsAppDriver.NewPhone(), "hi")));
        using var delivery = new HttpRequestMessage(HttpMethod.Post, "/webhook") { Content = new ByteArrayContent(body) };
        delivery.Content.Headers.ContentType = new("application/json");
        delivery.Headers.Add(WebhookSignature.HeaderName, WebhookSignature.Compute(await stack.GetParameterAsync(WhatsAppCloudApiExtensions.AppSecretParameter), body));
        delivery.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
        using var acknowledged = await _whatsApp.Webhook.SendAsync(delivery, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, acknowledged.StatusCode);
    }

    [Theory]
    [InlineData("Cf-Connecting-Ip", "203.0.113.7")]
    [InlineData("X-Forwarded-For", "203.0.113.7")]
    [InlineData("X-Forwarded-Host", "ava-stand-in.ngrok.app")]
    [InlineData("Forwarded", "for=203.0.113.7;proto=https")]
    public async Task In_development_the_admin_endpoints_are_not_found_through_a_tunnel_and_the_webhook_is(string header, string value)
    {
        // As a tunnel passes a request on to the webhook on this machine, with what it adds to every request.
        using var listing = new HttpRequestMessage(HttpMethod.Get, "/admin/failed");
        listing.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await _tokens.ServiceRoleAsync());
        listing.Headers.Add(header, value);
        using var replay = new HttpRequestMessage(HttpMethod.Post, "/admin/replay") { Content = new StringContent("""{"all":true}""", Encoding.UTF8, "application/json") };
        replay.Headers.Add(header, value);
        using var verification = new HttpRequestMessage(
            HttpMethod.Get,
            $"/webhook?hub.mode=subscribe&hub.verify_token={Uri.EscapeDataString(await stack.GetParameterAsync(WhatsAppCloudApiExtensions.VerifyTokenParameter))}&hub.challenge=42");
        verification.Headers.Add(header, value);

        using var listed = await _whatsApp.Webhook.SendAsync(listing, TestContext.Current.CancellationToken);
        using var replayed = await _whatsApp.Webhook.SendAsync(replay, TestContext.Current.CancellationToken);
        using var verified = await _whatsApp.Webhook.SendAsync(verification, TestContext.Current.CancellationToken);

        Assert.Equal(
            [HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.OK],
            [listed.StatusCode, replayed.StatusCode, verified.StatusCode]);
    }

    [Theory]
    [InlineData("POST", "/admin/replay", "{}")]
    [InlineData("POST", "/admin/replay", """{"all":true,"replies":[1]}""")]
    [InlineData("POST", "/admin/replay", """{"deliveries":[],"replies":[]}""")]
    [InlineData("POST", "/admin/replay", "not json")]
    [InlineData("POST", "/admin/replay", "")]
    [InlineData("GET", "/admin/failed?limit=0", null)]
    [InlineData("GET", "/admin/failed?limit=501", null)]
    [InlineData("GET", "/admin/failed?limit=ten", null)]
    public async Task A_replay_naming_nothing_or_both_or_a_bad_limit_is_a_400_problem(string method, string path, string? body)
    {
        using var response = await SendAsync(new HttpMethod(method), path, await _tokens.ServiceRoleAsync(), body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>A five-minute token signed with the admin key, with the claims given.</summary>
    private static string AdminKeyToken(string adminKey, string issuer, string audience, string role = ServiceRoleToken.Role)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { ["role"] = role },
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(adminKey)), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>A reply Meta refused for good (131026), as the sender recorded it.</summary>
    private async Task<long> FailedReplyAsync(string phone, string text)
    {
        await _whatsApp.FailNextSendsAsync(phone, 1, 400, 131026, "Message undeliverable");
        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, text))));
        var failed = await WhatsAppDriver.EventuallyAsync(
            () => _database.QueryAsync<long>("SELECT id FROM outbound_replies WHERE to_phone = $1 AND status = 'failed'", phone),
            ids => ids.Count == 1);
        return Assert.Single(failed);
    }

    private async Task<FailedWork> ListFailedAsync()
    {
        using var response = await SendAsync(HttpMethod.Get, $"/admin/failed?limit={FailedWorkReplay.MaxBatch}", await _tokens.ServiceRoleAsync());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<FailedWork>(TestContext.Current.CancellationToken))!;
    }

    private async Task<ReplayResult> ReplayAsync(ReplayRequest request)
    {
        using var response = await SendAsync(HttpMethod.Post, "/admin/replay", await _tokens.ServiceRoleAsync(), JsonSerializer.Serialize(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ReplayResult>(TestContext.Current.CancellationToken))!;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        return await _whatsApp.Webhook.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private async Task<string> AnInstanceOfAsync(string resourceName)
    {
        await foreach (var update in stack.App.ResourceNotifications.WatchAsync(TestContext.Current.CancellationToken))
        {
            if (update.Resource.Name == resourceName)
            {
                return update.ResourceId;
            }
        }

        throw new InvalidOperationException($"{resourceName} has no instance.");
    }

    private Task<string> ReplyStatusAsync(long replyId) =>
        _database.ScalarAsync<string>("SELECT status::text FROM outbound_replies WHERE id = $1", replyId);

    private Task<string> OutcomeAsync(long deliveryId) =>
        _database.ScalarAsync<string>("SELECT coalesce(outcome::text, 'pending') FROM inbound_deliveries WHERE id = $1", deliveryId);

    /// <summary>The status the user's history shows for Ava's reply.</summary>
    private Task<string> HistoryStatusAsync(Guid userId) =>
        _database.ScalarAsync<string>("SELECT delivery_status::text FROM messages WHERE user_id = $1 AND role = 'assistant'", userId);
}
