using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Ava.Linking;

/// <summary>
/// The proof that a user can send from a WhatsApp account. The messages API issues a user a one-time code for the
/// phone they claim; the user sends <c>LINK &lt;code&gt;</c> from it; the webhook links the sender when the code is
/// pending and names the sender's phone — or, for a sender whose phone Meta withholds (a user who adopted a
/// username), links their business-scoped user id on the code alone, the claimed phone unproven. The Redis keys both
/// services use:
/// <list type="bullet">
/// <item><see cref="CodeKeyFor"/>: a pending code → its <see cref="PendingPhoneLink"/>, written only if absent
/// (a code is never handed to two users, nor overwritten), with its expiry in the same step.</item>
/// <item><see cref="PendingCodeKeyFor"/>: the user's one pending code (its code key): issuing another drops it.</item>
/// <item><see cref="AttemptsKeyFor"/>: wrong codes sent by a phone (or user id); at <see cref="MaxAttempts"/> the
/// sender is refused linking until the counter expires.</item>
/// <item><see cref="IssuedToUserKeyFor"/>, <see cref="IssuedForPhoneKeyFor"/>: codes issued in the current
/// <see cref="IssuanceWindow"/>, per user and per claimed phone.</item>
/// </list>
/// </summary>
public static class PhoneLinkCodes
{
    public const int CodeLength = 6;

    /// <summary>Wrong codes sent by one phone (or user id) before it is refused linking for <see cref="TimeToLive"/>.</summary>
    public const int MaxAttempts = 5;

    /// <summary>
    /// Codes one user may be issued per <see cref="IssuanceWindow"/>: a person needs one, two or three if they
    /// mistype the number; more within a code's lifetime is not someone linking their own phone.
    /// </summary>
    public const int CodesPerUser = 5;

    /// <summary>
    /// Codes issued for one phone per <see cref="IssuanceWindow"/>, whichever accounts ask: twice
    /// <see cref="CodesPerUser"/>, so that no single account can use up a phone's allowance and lock its owner out.
    /// </summary>
    public const int CodesPerPhone = 2 * CodesPerUser;

    public static readonly TimeSpan TimeToLive = TimeSpan.FromMinutes(10);

    /// <summary>As long as a code lives: each window's codes are gone when it closes.</summary>
    public static readonly TimeSpan IssuanceWindow = TimeToLive;

    public static string CodeKeyFor(string code) => $"ava:whatsapp-link-code:{code}";

    public static string PendingCodeKeyFor(Guid userId) => $"ava:whatsapp-link-pending:{userId:D}";

    /// <param name="sender">A normalised phone, or a business-scoped user id for a sender without one.</param>
    public static string AttemptsKeyFor(string sender) => $"ava:whatsapp-link-attempts:{sender}";

    public static string IssuedToUserKeyFor(Guid userId) => $"ava:whatsapp-link-issued-user:{userId:D}";

    public static string IssuedForPhoneKeyFor(string phone) => $"ava:whatsapp-link-issued-phone:{phone}";
}

/// <summary>What a pending code stands for: the user it was issued to and the phone that user claims.</summary>
/// <param name="Phone">Normalised (<see cref="PhoneNumbers.Normalize"/>).</param>
/// <param name="AccountLabel">How the account is named to the person linking (see <see cref="LabelFor"/>).</param>
public sealed record PendingPhoneLink(Guid UserId, string Phone, string AccountLabel)
{
    private const char Separator = '|';

    private const int MaxLabelLength = 100;

    /// <summary>
    /// The stored form, <c>user|phone|label</c>: the user id first, at a fixed length, so that a Redis script can
    /// tell whose code it is (<see cref="OwnerPrefix"/>); the label last, so that it may contain anything.
    /// </summary>
    public string Format() => string.Create(CultureInfo.InvariantCulture, $"{UserId:D}{Separator}{Phone}{Separator}{AccountLabel}");

    /// <summary>What the stored form of every code of the user starts with.</summary>
    public static string OwnerPrefix(Guid userId) => string.Create(CultureInfo.InvariantCulture, $"{userId:D}{Separator}");

    public static bool TryParse(string? stored, [NotNullWhen(true)] out PendingPhoneLink? link)
    {
        link = null;
        var parts = stored?.Split(Separator, 3);
        if (parts is not [var user, var phone, var label] || !Guid.TryParseExact(user, "D", out var userId) || phone.Length == 0)
        {
            return false;
        }

        link = new PendingPhoneLink(userId, phone, label);
        return true;
    }

    /// <summary>
    /// Whether the code may link this sender: a sender with a phone must send from the phone its user claimed; a
    /// sender without one (known by their business-scoped user id) is admitted on the code alone, which only its user
    /// was given.
    /// </summary>
    /// <param name="senderPhone">The sender's phone; null when Meta withholds it.</param>
    public bool Admits(string? senderPhone) => senderPhone is null || string.Equals(Phone, senderPhone, StringComparison.Ordinal);

    /// <summary>
    /// The account as its owner knows it: the token's email, else its phone, else the start of its id. The person
    /// linking sees it in the confirmation, so that a code they were talked into sending shows whose it is.
    /// </summary>
    public static string LabelFor(Guid userId, string? email, string? phone)
    {
        var label = !string.IsNullOrWhiteSpace(email) ? email.Trim()
            : PhoneNumbers.TryParseE164("+" + PhoneNumbers.Normalize(phone ?? string.Empty), out var digits) ? PhoneNumbers.ToE164(digits)
            : userId.ToString("N", CultureInfo.InvariantCulture)[..8];
        label = new string([.. label.Where(c => !char.IsControl(c))]);
        if (label.Length <= MaxLabelLength)
        {
            return label;
        }

        // Never half of a character.
        return label[..(char.IsHighSurrogate(label[MaxLabelLength - 1]) ? MaxLabelLength - 1 : MaxLabelLength)];
    }
}
