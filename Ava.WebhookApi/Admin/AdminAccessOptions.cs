using System.ComponentModel.DataAnnotations;

namespace Ava.WebhookApi.Admin;

/// <summary>
/// Who may use the admin endpoints: holders of an admin token (<see cref="AdminTokens"/>) signed (HS256) with the
/// admin key, <c>Admin:Secret</c>. It is not the users' JWT secret: the webhook faces the internet and holds no key
/// that could mint a user's token, and a key that signs users' tokens (Supabase's) opens no admin endpoint.
/// </summary>
public sealed class AdminAccessOptions : IValidatableObject
{
    public const string SectionName = "Admin";

    /// <summary>HS256 signing secret of admin tokens (the AppHost's <c>admin-jwt-secret</c> parameter).</summary>
    public string? Secret { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Secret))
        {
            yield return new ValidationResult(
                "Admin:Secret is not set: the admin endpoints accept tokens signed with this key of their own (the AppHost's admin-jwt-secret parameter), not the users' JWT secret.");
        }
        else if (Secret.Length < 32)
        {
            yield return new ValidationResult("Admin:Secret must be at least 32 characters for HS256.");
        }
    }
}
