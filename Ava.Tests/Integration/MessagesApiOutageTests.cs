using System.Net;
using System.Net.Http.Json;

namespace Ava.Tests.Integration;

[Collection(OutageStackCollection.Name)]
public sealed class MessagesApiOutageTests(OutageStackFixture stack)
{
    [Fact]
    public async Task Asking_for_a_link_code_while_redis_is_down_is_a_503_problem_not_a_500()
    {
        using var me = await new AvaTokens(stack).ClientForAsync(Guid.NewGuid());

        await stack.StopAsync("cache");
        HttpStatusCode status;
        string? contentType;
        try
        {
            using var response = await me.PostAsJsonAsync("/me/whatsapp", new { phone = "+15550009999" }, TestContext.Current.CancellationToken);
            (status, contentType) = (response.StatusCode, response.Content.Headers.ContentType?.MediaType);
        }
        finally
        {
            await stack.StartAsync("cache");
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("application/problem+json", contentType);
    }
}
