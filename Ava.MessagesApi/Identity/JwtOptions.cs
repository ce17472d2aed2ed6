using System.ComponentModel.DataAnnotations;

namespace Ava.MessagesApi.Identity;

/// <summary>
/// How bearer tokens are checked: Supabase-style HS256 with a shared secret (<see cref="Secret"/>), or, when
/// <see cref="Authority"/> is set, an OpenID Connect provider's signing keys (JWKS).
/// </summary>
public sealed class JwtOptions : IValidatableObject
{
    public const string SectionName = "Auth";

    /// <summary>HS256 signing secret (Supabase: Project Settings → API → JWT secret).</summary>
    public string? Secret { get; set; }

    /// <summary>OpenID Connect authority; its discovery document gives the signing keys and issuer.</summary>
    public string? Authority { get; set; }

    /// <summary>Whether the authority's metadata must come over https (turn off only for a local provider).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Expected <c>aud</c>: Supabase signs user tokens for <c>authenticated</c>.</summary>
    [Required]
    public string Audience { get; set; } = "authenticated";

    /// <summary>Expected <c>iss</c>; not checked when unset (HS256 mode) or taken from the authority (OIDC mode).</summary>
    public string? Issuer { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Authority) && string.IsNullOrWhiteSpace(Secret))
        {
            yield return new ValidationResult("Auth:Secret (HS256 shared secret) or Auth:Authority (OpenID Connect) must be set.");
        }

        if (string.IsNullOrWhiteSpace(Authority) && Secret is { Length: > 0 and < 32 })
        {
            yield return new ValidationResult("Auth:Secret must be at least 32 characters for HS256.");
        }
    }
}
