using System.Net;
using Ava.AppHost.WhatsApp;

namespace Ava.Tests.Integration;

[Collection(AvaStackCollection.Name)]
public sealed class WebhookVerificationTests(AvaStackFixture stack)
{
    private readonly WhatsAppDriver _whatsApp = new(stack);

    [Fact]
    public async Task Subscribing_with_the_verify_token_echoes_the_challenge()
    {
        var token = await stack.GetParameterAsync(WhatsAppCloudApiExtensions.VerifyTokenParameter);

        using var response = await VerifyAsync("subscribe", token, "1158201444");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("1158201444", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("subscribe", "not-the-token")]
    [InlineData("unsubscribe", null)]
    [InlineData(null, null)]
    public async Task Anything_but_subscribe_with_the_verify_token_is_forbidden(string? mode, string? token)
    {
        token ??= await stack.GetParameterAsync(WhatsAppCloudApiExtensions.VerifyTokenParameter);

        using var response = await VerifyAsync(mode, token, "42");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task A_challenge_that_is_not_an_integer_is_a_bad_request()
    {
        var token = await stack.GetParameterAsync(WhatsAppCloudApiExtensions.VerifyTokenParameter);

        using var response = await VerifyAsync("subscribe", token, "<script>");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private Task<HttpResponseMessage> VerifyAsync(string? mode, string token, string challenge)
    {
        var query = $"hub.verify_token={Uri.EscapeDataString(token)}&hub.challenge={Uri.EscapeDataString(challenge)}";
        if (mode is not null)
        {
            query += $"&hub.mode={mode}";
        }

        return _whatsApp.Webhook.GetAsync($"/webhook?{query}", TestContext.Current.CancellationToken);
    }
}
