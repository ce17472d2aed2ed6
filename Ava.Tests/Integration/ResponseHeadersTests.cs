using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;

namespace Ava.Tests.Integration;

/// <summary>Every response of Ava's APIs tells browsers to treat it as data: nothing sniffed, framed or loaded.</summary>
[Collection(AvaStackCollection.Name)]
public sealed partial class ResponseHeadersTests(AvaStackFixture stack)
{
    private const string ApiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";

    [Theory]
    [InlineData("webhookapi", "GET", "/alive")]
    [InlineData("webhookapi", "GET", "/health")]
    [InlineData("webhookapi", "GET", "/webhook")]
    [InlineData("webhookapi", "POST", "/webhook")]
    [InlineData("messagesapi", "GET", "/messages")]
    [InlineData("messagesapi", "GET", "/alive")]
    public async Task Every_api_response_forbids_sniffing_framing_referrers_and_loading_anything(string resource, string method, string path)
    {
        using var client = stack.CreateHttpClient(resource);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new ByteArrayContent("{}"u8.ToArray());
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        Assert.Equal(ApiContentSecurityPolicy, Header(response, "Content-Security-Policy"));

        // The stack runs in Development over plain http, where HSTS would pin a developer's browser to https.
        Assert.Null(Header(response, "Strict-Transport-Security"));
    }

    [Theory]
    [InlineData("webhookapi")]
    [InlineData("messagesapi")]
    public async Task The_API_reference_page_still_loads_its_scripts_in_Development(string resource)
    {
        using var client = stack.CreateHttpClient(resource);

        using var page = await client.GetAsync("/scalar", TestContext.Current.CancellationToken);
        var html = await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Null(Header(page, "Content-Security-Policy"));
        Assert.Equal("nosniff", Header(page, "X-Content-Type-Options"));

        // With nosniff, a script runs only if it is served as JavaScript.
        var scripts = ScriptSource().Matches(html).Select(match => match.Groups["src"].Value).Where(src => !src.Contains("//", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(scripts);
        foreach (var script in scripts)
        {
            using var response = await client.GetAsync(new Uri(page.RequestMessage!.RequestUri!, script), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.EndsWith("javascript", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Outside_Development_responses_also_ask_browsers_for_https_only()
    {
        await using var webhook = await InProcessWebhook.CreateAsync(stack, Environments.Production);
        using var client = webhook.CreateClient();

        using var response = await client.GetAsync("/alive", TestContext.Current.CancellationToken);

        Assert.Equal("max-age=31536000", Header(response, "Strict-Transport-Security"));
        Assert.Equal(ApiContentSecurityPolicy, Header(response, "Content-Security-Policy"));
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : null;

    [GeneratedRegex("""<script[^>]*\ssrc="(?<src>[^"]+)"[^>]*>""", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptSource();
}
