using System.Security.Claims;

namespace Ava.MessagesApi.Identity;

/// <summary>The signed-in Ava user of this request: the token's <c>sub</c>, a uuid.</summary>
public sealed class CurrentUser
{
    public ClaimsPrincipal? Principal { get; set; }

    /// <summary>The user's id; only read on endpoints that require authorization.</summary>
    public Guid Id => Principal?.FindFirstValue(ClaimTypes.NameIdentifier) is { } sub && Guid.TryParse(sub, out var id)
        ? id
        : throw new InvalidOperationException("No signed-in user.");
}
