using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Ava.Tests.Integration;

/// <summary>Linking and unlinking while Redis is away.</summary>
[Collection(OutageStackCollection.Name)]
public sealed class WhatsAppLinkingOutageTests(OutageStackFixture stack)
{
    private readonly AvaDatabase _database = new(stack);

    [Fact]
    public async Task Unlinking_while_redis_is_down_succeeds_once_the_database_has_it()
    {
        var (_, userId) = await _database.LinkedUserAsync();
        using var me = await new AvaTokens(stack).ClientForAsync(userId);

        HttpStatusCode status;
        await stack.StopAsync("cache");
        try
        {
            using var response = await me.DeleteAsync("/me/whatsapp", TestContext.Current.CancellationToken);
            status = response.StatusCode;
        }
        finally
        {
            await stack.StartAsync("cache");
        }

        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.False((await me.GetFromJsonAsync<JsonElement>("/me/whatsapp", TestContext.Current.CancellationToken)).GetProperty("linked").GetBoolean());
    }
}
