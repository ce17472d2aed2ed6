using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Ava.MessagesApi.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ava.Tests.Integration;

/// <summary>
/// The messages API in-process with a Postgres that does not answer (a port nobody listens on) and the stack's real
/// Redis: what a caller and an orchestrator see while the database is away.
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class MessagesApiWithoutPostgresTests(AvaStackFixture stack) : IAsyncLifetime
{
    private const string Secret = "a-test-secret-that-is-long-enough-for-hs256-0123456789";

    private WebApplicationFactory<CurrentUser>? _api;

    private WebApplicationFactory<CurrentUser> Api => _api ?? throw new InvalidOperationException("Not initialised.");

    public async ValueTask InitializeAsync()
    {
        var cache = await stack.GetConnectionStringAsync("cache");
        _api = new WebApplicationFactory<CurrentUser>().WithWebHostBuilder(web => web
            .UseSetting("ConnectionStrings:ava", $"Host=127.0.0.1;Port={UnusedPort()};Username=nobody;Password=x;Database=ava")
            .UseSetting("ConnectionStrings:cache", cache)
            .UseSetting("Auth:Secret", Secret));
    }

    public async ValueTask DisposeAsync()
    {
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("/messages")]
    [InlineData("/messages?limit=3&channel=whatsapp")]
    public async Task Reading_history_is_a_503_problem_to_retry_not_a_500(string url)
    {
        using var client = Api.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Bearer", await new AvaTokens(stack).ForAsync(Guid.NewGuid(), secret: Secret));

        using var response = await client.GetAsync(url, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task Health_reports_postgres_down_once_and_everything_else_up()
    {
        var report = await Api.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Single(report.Entries, entry => entry.Value.Status != HealthStatus.Healthy);
        Assert.True(report.Entries.Count >= 3, $"Expected the process, Postgres and Redis checks, got: {string.Join(", ", report.Entries.Keys)}");
    }

    /// <summary>A port that was free a moment ago: connecting to it is refused at once.</summary>
    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
