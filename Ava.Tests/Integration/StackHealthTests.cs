using System.Net;

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
}
