namespace Ava.Data.Users;

/// <summary>
/// The Redis cache of "which Ava user is this WhatsApp phone linked to": written by the webhook, evicted by whoever
/// changes a link.
/// </summary>
public static class LinkedUserCache
{
    /// <summary>Stored for a phone that is linked to nobody (a short-lived negative entry).</summary>
    public const string NotLinked = "-";

    public static readonly TimeSpan LinkedTimeToLive = TimeSpan.FromMinutes(10);

    public static readonly TimeSpan NotLinkedTimeToLive = TimeSpan.FromSeconds(30);

    /// <param name="phone">A phone normalised by <see cref="PhoneNumbers.Normalize"/>.</param>
    public static string KeyFor(string phone) => $"ava:whatsapp-user:{phone}";
}
