using System.Net;
using System.Text;
using Ava.WhatsApp.Contracts;

namespace Ava.Tests.Integration;

[Collection(AvaStackCollection.Name)]
public sealed class WebhookReceivingTests(AvaStackFixture stack)
{
    private readonly WhatsAppDriver _whatsApp = new(stack);
    private readonly AvaDatabase _database = new(stack);

    [Fact]
    public async Task A_signed_delivery_is_acknowledged_with_status_ok_and_stored()
    {
        var body = WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(WhatsAppDriver.NewPhone(), "hello")));

        using var response = await _whatsApp.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"status":"ok"}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(1, await StoredCountAsync(body));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sha256=0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("sha1=abc")]
    public async Task A_delivery_without_a_valid_signature_is_refused_and_not_stored(string? signature)
    {
        var body = WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(WhatsAppDriver.NewPhone(), "forged")));

        using var response = await _whatsApp.PostAsync(body, signature);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, await StoredCountAsync(body));
    }

    [Fact]
    public async Task A_signature_of_other_bytes_is_refused()
    {
        var signed = WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(WhatsAppDriver.NewPhone(), "original")));
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(signed).Replace("original", "tampered", StringComparison.Ordinal));
        var secret = await stack.GetParameterAsync(Ava.AppHost.WhatsApp.WhatsAppCloudApiExtensions.AppSecretParameter);

        using var response = await _whatsApp.PostAsync(tampered, WebhookSignature.Compute(secret, signed));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, await StoredCountAsync(tampered));
    }

    [Fact]
    public async Task A_signed_body_that_is_not_a_notification_is_acknowledged_stored_and_marked_unprocessable()
    {
        var body = Encoding.UTF8.GetBytes("not json at all " + Guid.NewGuid());

        using var response = await _whatsApp.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var outcome = await WhatsAppDriver.EventuallyAsync(
            () => _database.QueryAsync<string?>("SELECT outcome::text FROM inbound_deliveries WHERE body = $1", body),
            rows => rows is [not null]);
        Assert.Equal(["unprocessable"], outcome);
    }

    [Fact]
    public async Task A_delivery_over_3_MB_is_refused_as_too_large()
    {
        var body = new byte[(3 * 1024 * 1024) + 1];
        Array.Fill(body, (byte)' ');

        using var response = await _whatsApp.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    private Task<long> StoredCountAsync(byte[] body) =>
        _database.ScalarAsync<long>("SELECT count(*) FROM inbound_deliveries WHERE body = $1", body);
}
