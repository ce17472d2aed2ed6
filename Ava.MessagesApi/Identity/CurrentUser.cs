using System.Security.Claims;
using Ava.Linking;

namespace Ava.MessagesApi.Identity;

/// <summary>The signed-in Ava user of this request: the token's <c>sub</c>, a uuid.</summary>
public sealed class CurrentUser
{
    /// <summary>Supabase's claim on tokens of anonymous sign-ins (a session with no email, phone or password behind it).</summary>
    public const string IsAnonymousClaim = "is_anonymous";

    public ClaimsPrincipal? Principal { get; set; }

    /// <summary>The user's id; only read on endpoints that require authorization.</summary>
    public Guid Id => Principal?.FindFirstValue(ClaimTypes.NameIdentifier) is { } sub && Guid.TryParse(sub, out var id)
        ? id
        : throw new InvalidOperationException("No signed-in user.");

    /// <summary>Whether the token is of an anonymous sign-in: anybody can make one, so it proves nothing of a person.</summary>
    public bool IsAnonymous => bool.TryParse(Principal?.FindFirstValue(IsAnonymousClaim), out var anonymous) && anonymous;

    /// <summary>How to name the account to its owner (see <see cref="PendingLink.LabelFor"/>).</summary>
    public string AccountLabel => PendingLink.LabelFor(
        Id,
        Principal?.FindFirstValue(ClaimTypes.Email) ?? Principal?.FindFirstValue("email"),
        Principal?.FindFirstValue(ClaimTypes.MobilePhone) ?? Principal?.FindFirstValue("phone"));
}
