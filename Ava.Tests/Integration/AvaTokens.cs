using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using Ava.AppHost;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ava.Tests.Integration;

/// <summary>Mints real JWTs as Supabase does (HS256, <c>sub</c> = user id, audience <c>authenticated</c>).</summary>
public sealed class AvaTokens(AvaStackFixture stack)
{
    public async Task<string> ForAsync(
        Guid userId,
        string audience = "authenticated",
        TimeSpan? expiresIn = null,
        string? secret = null,
        string? subject = null,
        IDictionary<string, object>? claims = null)
    {
        var now = DateTime.UtcNow;
        var expires = now + (expiresIn ?? TimeSpan.FromHours(1));
        var key = Encoding.UTF8.GetBytes(secret ?? await stack.GetParameterAsync("jwt-secret"));
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", subject ?? userId.ToString()), new Claim("role", "authenticated")]),
            Audience = audience,
            Issuer = "https://ava-test.supabase.co/auth/v1",
            IssuedAt = expires.AddHours(-1) < now ? expires.AddHours(-1) : now,
            NotBefore = expires.AddHours(-1) < now ? expires.AddHours(-1) : now,
            Expires = expires,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
            Claims = claims,
        });
    }

    /// <summary>An admin's token (<c>role</c> = <c>service_role</c>), signed with the stack's admin key.</summary>
    public async Task<string> ServiceRoleAsync() => ServiceRoleToken.Create(await stack.GetParameterAsync("admin-jwt-secret"), TimeSpan.FromMinutes(5));

    /// <summary>A token that claims <c>alg: none</c> and carries no signature.</summary>
    public static string Unsigned(Guid userId)
    {
        static string Encode(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        var expires = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        return $"{Encode("""{"alg":"none","typ":"JWT"}""")}.{Encode($$"""{"sub":"{{userId}}","aud":"authenticated","exp":{{expires}}}""")}.";
    }

    /// <summary>A client of the messages API signed in as the user.</summary>
    /// <param name="claims">More of Supabase's claims, e.g. <c>email</c> or <c>is_anonymous</c>.</param>
    public async Task<HttpClient> ClientForAsync(Guid userId, IDictionary<string, object>? claims = null)
    {
        var client = stack.CreateHttpClient("messagesapi");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await ForAsync(userId, claims: claims));
        return client;
    }
}
