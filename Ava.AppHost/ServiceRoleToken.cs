using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ava.AppHost;

/// <summary>
/// Mints Supabase-style service-role tokens — HS256 with the project's JWT secret, <c>role</c> =
/// <c>service_role</c> — as the webhook's admin endpoints require. Short-lived: whoever needs one mints a new one.
/// </summary>
public static class ServiceRoleToken
{
    public const string Role = "service_role";

    public static string Create(string secret, TimeSpan lifetime)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { ["role"] = Role },
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256),
        });
    }
}
