using System.Net;
using System.Net.Http.Headers;
using Ava.MessagesApi.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Ava.Tests.Integration;

/// <summary>
/// The messages API as a browser front end of another origin calls it (CORS), and mounted under a path prefix. The
/// API runs in-process, with one allowed origin, on the stack's real Postgres and Redis.
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class MessagesApiInBrowserTests(AvaStackFixture stack) : IAsyncLifetime
{
    private const string FrontEnd = "https://app.example.com";
    private const string PathBase = "/ava/api";

    private readonly AvaDatabase _database = new(stack);
    private WebApplicationFactory<CurrentUser>? _api;

    private WebApplicationFactory<CurrentUser> Api => _api ?? throw new InvalidOperationException("Not initialised.");

    public async ValueTask InitializeAsync()
    {
        var database = await stack.GetConnectionStringAsync("ava");
        var cache = await stack.GetConnectionStringAsync("cache");
        var secret = await stack.GetParameterAsync("jwt-secret");
        _api = new WebApplicationFactory<CurrentUser>().WithWebHostBuilder(web => web
            .UseSetting("ConnectionStrings:ava", database)
            .UseSetting("ConnectionStrings:cache", cache)
            .UseSetting("Auth:Secret", secret)
            .UseSetting("Cors:AllowedOrigins:0", FrontEnd)
            .ConfigureTestServices(services => services.AddSingleton<IStartupFilter, MountedUnderPathBase>()));
    }

    public async ValueTask DisposeAsync()
    {
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_front_end_of_an_allowed_origin_can_read_the_page_and_its_next_link()
    {
        var userId = await UserWithMessagesAsync(2);
        using var client = await ClientForAsync(userId);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{PathBase}/messages?limit=1") { Headers = { { "Origin", FrontEnd } } };

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(FrontEnd, Header(response, "Access-Control-Allow-Origin"));
        Assert.Contains("Link", Header(response, "Access-Control-Expose-Headers")!.Split(',', StringSplitOptions.TrimEntries));
        Assert.StartsWith($"<{PathBase}/messages?limit=1&before=", Header(response, "Link"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_browsers_preflight_for_a_signed_in_request_is_answered_without_a_token()
    {
        using var client = Api.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Options, $"{PathBase}/messages")
        {
            Headers =
            {
                { "Origin", FrontEnd },
                { "Access-Control-Request-Method", "GET" },
                { "Access-Control-Request-Headers", "authorization" },
            },
        };

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.True(response.IsSuccessStatusCode, $"Preflight answered {(int)response.StatusCode}");
        Assert.Equal(FrontEnd, Header(response, "Access-Control-Allow-Origin"));
        Assert.Contains("authorization", Header(response, "Access-Control-Allow-Headers")!, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_front_end_may_ask_for_a_range_of_media_and_revalidate_it_and_read_the_headers_that_answer()
    {
        using var client = Api.CreateClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, $"{PathBase}/messages/{Guid.NewGuid()}/media")
        {
            Headers =
            {
                { "Origin", FrontEnd },
                { "Access-Control-Request-Method", "GET" },
                { "Access-Control-Request-Headers", "authorization,range,if-none-match" },
            },
        };
        using var signedIn = await ClientForAsync(Guid.NewGuid());
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{PathBase}/messages") { Headers = { { "Origin", FrontEnd } } };

        using var preflightResponse = await client.SendAsync(preflight, TestContext.Current.CancellationToken);
        using var response = await signedIn.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.True(preflightResponse.IsSuccessStatusCode, $"Preflight answered {(int)preflightResponse.StatusCode}");
        var allowed = Header(preflightResponse, "Access-Control-Allow-Headers")!.Split(',', StringSplitOptions.TrimEntries);
        Assert.Contains("range", allowed, StringComparer.OrdinalIgnoreCase);
        Assert.Contains("if-none-match", allowed, StringComparer.OrdinalIgnoreCase);
        var exposed = Header(response, "Access-Control-Expose-Headers")!.Split(',', StringSplitOptions.TrimEntries);
        Assert.Superset(
            new HashSet<string>(["ETag", "Content-Range", "Content-Disposition", "Accept-Ranges"], StringComparer.OrdinalIgnoreCase),
            new HashSet<string>(exposed, StringComparer.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_front_end_of_an_allowed_origin_can_see_that_its_token_was_refused()
    {
        using var client = Api.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{PathBase}/messages") { Headers = { { "Origin", FrontEnd } } };

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(FrontEnd, Header(response, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task A_page_of_any_other_origin_gets_nothing_it_may_read()
    {
        var userId = await UserWithMessagesAsync(2);
        using var client = await ClientForAsync(userId);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{PathBase}/messages?limit=1") { Headers = { { "Origin", "https://elsewhere.example.com" } } };

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
        Assert.Null(Header(response, "Access-Control-Expose-Headers"));
    }

    [Fact]
    public async Task Without_configured_origins_no_page_of_another_origin_may_read_anything()
    {
        using var client = await new AvaTokens(stack).ClientForAsync(Guid.NewGuid());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/messages") { Headers = { { "Origin", FrontEnd } } };

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
    }

    private async Task<HttpClient> ClientForAsync(Guid userId)
    {
        var client = Api.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await new AvaTokens(stack).ForAsync(userId));
        return client;
    }

    private async Task<Guid> UserWithMessagesAsync(int count)
    {
        var userId = Guid.NewGuid();
        for (var i = 0; i < count; i++)
        {
            await _database.ExecuteAsync(
                "INSERT INTO messages (id, user_id, channel, role, content, created_at) VALUES ($1, $2, 'app', 'user', $3, $4)",
                Guid.NewGuid(), userId, $"m{i}", DateTimeOffset.UtcNow.AddMinutes(i - 10));
        }

        return userId;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : null;

    /// <summary>As a host or proxy mounts the API under a prefix: the prefix becomes the request's path base.</summary>
    private sealed class MountedUnderPathBase : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UsePathBase(PathBase);
            next(app);
        };
    }
}
