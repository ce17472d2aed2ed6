namespace Ava.Data.Users;

/// <summary>
/// The proof that a user can send from a phone: the messages API issues a one-time code for (user, phone), kept in
/// Redis; the user sends <c>LINK &lt;code&gt;</c> from that phone; the webhook checks it and links the phone.
/// </summary>
public static class PhoneLinkCodes
{
    public const int CodeLength = 6;

    /// <summary>Wrong codes sent from one phone before all of its pending codes are dropped.</summary>
    public const int MaxAttempts = 5;

    public static readonly TimeSpan TimeToLive = TimeSpan.FromMinutes(10);

    /// <summary>A Redis hash of the phone's pending codes: code → user id.</summary>
    public static string PendingKeyFor(string phone) => $"ava:whatsapp-link:{phone}";

    /// <summary>A Redis counter of wrong codes sent from the phone.</summary>
    public static string AttemptsKeyFor(string phone) => $"ava:whatsapp-link-attempts:{phone}";
}
