namespace Ava.Data.Users;

/// <summary>
/// An Ava user's settings, among them the WhatsApp account linked to theirs: known by its phone, its business-scoped
/// user id, or both (a user who adopted a username may write without a phone).
/// </summary>
public sealed class UserPreferences
{
    public Guid UserId { get; set; }

    /// <summary>Digits only, no <c>+</c>: the form Meta uses for <c>from</c> and <c>wa_id</c>.</summary>
    public string? WhatsAppPhone { get; set; }

    /// <summary>The linked WhatsApp account's business-scoped user id (see <see cref="WhatsAppUserIds"/>).</summary>
    public string? WhatsAppUserId { get; set; }

    /// <summary>The linked account's username when it had one at linking: how the account is shown without a phone.</summary>
    public string? WhatsAppUsername { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
