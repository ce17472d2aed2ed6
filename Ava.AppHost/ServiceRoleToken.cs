using System.Text;
using Ava.WebhookApi.Admin;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ava.AppHost;

/// <summary>
/// Mints admin tokens as the webhook's admin endpoints require them (<see cref="AdminTokens"/>): HS256 with the
/// admin key — never the users' JWT secret — <c>role</c> = <c>service_role</c>, Ava's admin issuer and audience,
/// short-lived. Whoever needs one mints a new one.
/// </summary>
public static class ServiceRoleToken
{
    public const string Role = AdminTokens.ServiceRole;

    public static string Create(string adminSecret, TimeSpan lifetime)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { [AdminTokens.RoleClaim] = Role },
            Issuer = AdminTokens.Issuer,
            Audience = AdminTokens.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(adminSecret)), SecurityAlgorithms.HmacSha256),
        });
    }
}
