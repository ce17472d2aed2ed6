using System.Net.Http.Json;
using System.Text.Json;
using Ava.Tests.Integration;
using Microsoft.Extensions.Hosting;

namespace Ava.Tests.Unit;

/// <summary>
/// The webhook's OpenAPI document, in process (it reaches no database to serve it): the API reference can send a
/// service-role token to <c>/admin</c>, and shows that Meta's <c>/webhook</c> takes none.
/// </summary>
public sealed class WebhookOpenApiTests
{
    [Fact]
    public async Task The_admin_operations_declare_the_bearer_scheme_and_the_webhook_none()
    {
        await using var webhook = InProcessWebhook.Create(
            "Host=127.0.0.1;Port=1;Username=ava;Database=ava", "127.0.0.1:1,abortConnect=false", Environments.Development);
        using var client = webhook.CreateClient();

        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", TestContext.Current.CancellationToken);

        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty(BearerSecurityScheme.Name);
        Assert.Equal(("http", "bearer"), (scheme.GetProperty("type").GetString(), scheme.GetProperty("scheme").GetString()));
        var paths = document.GetProperty("paths");
        Assert.Equal([BearerSecurityScheme.Name], SchemesOf(paths.GetProperty("/admin/failed").GetProperty("get")));
        Assert.Equal([BearerSecurityScheme.Name], SchemesOf(paths.GetProperty("/admin/replay").GetProperty("post")));
        Assert.Empty(SchemesOf(paths.GetProperty("/webhook").GetProperty("post")));
        Assert.False(document.TryGetProperty("security", out _), "The document as a whole asks for no token.");
    }

    /// <summary>The security schemes an operation requires (any of its requirements).</summary>
    private static List<string> SchemesOf(JsonElement operation) =>
        operation.TryGetProperty("security", out var security)
            ? [.. security.EnumerateArray().SelectMany(requirement => requirement.EnumerateObject().Select(scheme => scheme.Name))]
            : [];
}
