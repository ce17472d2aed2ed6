using System.ComponentModel.DataAnnotations;

namespace Ava.WebhookApi.Admin;

/// <summary>
/// Who may use the admin endpoints: holders of a Supabase-style service-role token, signed (HS256) with the JWT
/// secret the messages API validates users' tokens with — the same <c>Auth:Secret</c>.
/// </summary>
public sealed class AdminAccessOptions : IValidatableObject
{
    public const string SectionName = "Auth";

    /// <summary>HS256 signing secret (Supabase: Project Settings → API → JWT secret).</summary>
    public string? Secret { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Secret))
        {
            yield return new ValidationResult(
                "Auth:Secret is not set: the admin endpoints accept service-role tokens signed with the JWT secret the messages API uses.");
        }
        else if (Secret.Length < 32)
        {
            yield return new ValidationResult("Auth:Secret must be at least 32 characters for HS256.");
        }
    }
}
