namespace Ava.WebhookApi.Admin;

/// <summary>
/// What an admin token must carry, besides the admin key's signature (HS256 with <c>Admin:Secret</c>): this
/// issuer, this audience, the service role, and a lifetime no longer than <see cref="MaxLifetime"/>. The AppHost
/// compiles this file too, so that the tokens it mints (the dashboard's "Replay failed") meet it; so does
/// <c>scripts/token.sh --service-role</c>.
/// </summary>
internal static class AdminTokens
{
    public const string Issuer = "ava-admin";

    public const string Audience = "ava-webhook-admin";

    /// <summary>Supabase's claim and value for its admin keys, kept so that existing callers read the same.</summary>
    public const string RoleClaim = "role";

    public const string ServiceRole = "service_role";

    /// <summary>
    /// A leaked admin token is worth minutes, not days: whoever needs one mints a new one. Longer-lived tokens are
    /// refused even when signed with the admin key.
    /// </summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(15);
}
