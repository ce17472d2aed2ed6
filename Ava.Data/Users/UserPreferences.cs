namespace Ava.Data.Users;

/// <summary>An Ava user's settings, among them the WhatsApp number linked to the account.</summary>
public sealed class UserPreferences
{
    public Guid UserId { get; set; }

    /// <summary>Digits only, no <c>+</c>: the form Meta uses for <c>from</c> and <c>wa_id</c>.</summary>
    public string? WhatsAppPhone { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
