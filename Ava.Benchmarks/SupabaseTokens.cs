using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ava.Benchmarks;

/// <summary>Mints tokens as Supabase does (HS256 with the project's JWT secret, <c>sub</c> = user id, audience <c>authenticated</c>).</summary>
public sealed class SupabaseTokens(string jwtSecret)
{
    private readonly SigningCredentials _signing = new(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(jwtSecret)), SecurityAlgorithms.HmacSha256);
    private readonly JsonWebTokenHandler _handler = new();

    public string For(Guid userId, TimeSpan lifetime)
    {
        var now = DateTime.UtcNow;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", userId.ToString()), new Claim("role", "authenticated")]),
            Audience = "authenticated",
            Issuer = "https://ava-benchmark.supabase.co/auth/v1",
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = _signing,
        });
    }
}
