using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using Ava.MessagesApi.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ava.Tests.Integration;

/// <summary>
/// The messages API configured for an OpenID Connect provider instead of a shared secret: tokens are checked
/// against the provider's published signing keys. The provider is a minimal one on loopback; the API runs
/// in-process against the stack's real Postgres and Redis.
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class OpenIdConnectTests(AvaStackFixture stack) : IAsyncLifetime
{
    private readonly RsaSecurityKey _providerKey = new(RSA.Create(2048)) { KeyId = "provider-key" };
    private WebApplication? _provider;
    private WebApplicationFactory<CurrentUser>? _api;
    private string _issuer = "";

    public async ValueTask InitializeAsync()
    {
        var provider = WebApplication.CreateSlimBuilder();
        provider.WebHost.UseUrls("http://127.0.0.1:0");
        _provider = provider.Build();
        _provider.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = _issuer,
            ["jwks_uri"] = $"{_issuer}/jwks",
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        }));
        _provider.MapGet("/jwks", () => Results.Json(new Dictionary<string, object>
        {
            ["keys"] = new[] { JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_providerKey.Rsa.ExportParameters(false)) { KeyId = _providerKey.KeyId }) },
        }));
        await _provider.StartAsync(TestContext.Current.CancellationToken);
        _issuer = _provider.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        var database = await stack.GetConnectionStringAsync("ava");
        var cache = await stack.GetConnectionStringAsync("cache");
        _api = new WebApplicationFactory<CurrentUser>().WithWebHostBuilder(web => web
            .UseSetting("ConnectionStrings:ava", database)
            .UseSetting("ConnectionStrings:cache", cache)
            .UseSetting("Auth:Authority", _issuer)
            .UseSetting("Auth:RequireHttpsMetadata", "false"));
    }

    public async ValueTask DisposeAsync()
    {
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }

        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_token_signed_by_the_provider_is_accepted()
    {
        using var response = await GetMessagesAsync(Token(_providerKey, _issuer));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("other-key")]
    [InlineData("other-issuer")]
    [InlineData("shared-secret")]
    public async Task Tokens_the_provider_did_not_sign_for_itself_are_refused(string kind)
    {
        var token = kind switch
        {
            "other-key" => Token(new RsaSecurityKey(RSA.Create(2048)) { KeyId = _providerKey.KeyId }, _issuer),
            "other-issuer" => Token(_providerKey, "https://elsewhere.example.com"),
            _ => await new AvaTokens(stack).ForAsync(Guid.NewGuid()),
        };

        using var response = await GetMessagesAsync(token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task<HttpResponseMessage> GetMessagesAsync(string token)
    {
        using var client = _api!.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.GetAsync("/messages", TestContext.Current.CancellationToken);
    }

    private static string Token(SecurityKey key, string issuer) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Subject = new ClaimsIdentity([new Claim("sub", Guid.NewGuid().ToString())]),
        Audience = "authenticated",
        Issuer = issuer,
        Expires = DateTime.UtcNow.AddMinutes(10),
        SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
    });
}
