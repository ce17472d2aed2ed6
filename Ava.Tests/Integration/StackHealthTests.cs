using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace Ava.Tests.Integration;

[Collection(AvaStackCollection.Name)]
public sealed class StackHealthTests(AvaStackFixture stack)
{
    [Theory]
    [InlineData("webhookapi")]
    [InlineData("messagesapi")]
    public async Task Api_reports_healthy_with_its_postgres_and_redis(string resourceName)
    {
        using var client = stack.CreateHttpClient(resourceName);

        using var response = await client.GetAsync("/health", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_flood_of_anonymous_health_probes_does_not_turn_into_dependency_checks_per_probe()
    {
        const int ProbesPerApi = 200;
        var redisOptions = ConfigurationOptions.Parse(await stack.GetConnectionStringAsync("cache"));
        redisOptions.AllowAdmin = true;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(redisOptions);
        var server = redis.GetServer(redis.GetEndPoints().Single());
        using var webhook = stack.CreateHttpClient("webhookapi");
        using var messages = stack.CreateHttpClient("messagesapi");
        var before = await CommandsProcessedAsync(server);

        await Parallel.ForEachAsync(
            Enumerable.Range(0, ProbesPerApi).SelectMany(_ => new[] { webhook, messages }),
            new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = TestContext.Current.CancellationToken },
            async (client, cancellationToken) =>
            {
                using var response = await client.GetAsync("/health", cancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            });

        // Each dependency check pings Redis; a probe that ran them would show up here once per probe at least.
        var commands = await CommandsProcessedAsync(server) - before;
        Assert.True(commands < ProbesPerApi / 4, $"{commands} Redis commands for {2 * ProbesPerApi} health probes.");
    }

    private static async Task<long> CommandsProcessedAsync(IServer server)
    {
        var stats = await server.InfoAsync("stats");
        return long.Parse(stats.SelectMany(section => section).Single(entry => entry.Key == "total_commands_processed").Value, CultureInfo.InvariantCulture);
    }
}
