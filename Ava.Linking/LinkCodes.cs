using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Ava.Linking;

/// <summary>
/// The proof that a user can send from a WhatsApp account. The messages API issues a user a pair of one-time codes
/// for the phone they claim: a short one (<see cref="CodeLength"/>) that links only when sent from that phone, and a
/// long one (<see cref="CodeWithoutPhoneLength"/>) for a sender whose phone Meta withholds (a user who adopted a
/// username), whose business-scoped user id it links on the code alone, the claimed phone unproven. The code alone
/// is then all the proof there is, so it is long enough, and guesses few enough, that it cannot be guessed in
/// practice. The Redis keys both services use:
/// <list type="bullet">
/// <item><see cref="CodeKeyFor"/>: a pending code → its <see cref="PendingLink"/>, written only if absent
/// (a code is never handed to two users, nor overwritten), with its expiry in the same step.</item>
/// <item><see cref="PendingCodeKeyFor"/>, <see cref="PendingCodeWithoutPhoneKeyFor"/>: the user's one pending pair
/// of codes (their code keys): issuing another pair drops it.</item>
/// <item><see cref="AttemptsKeyFor"/>: codes sent by a phone (or user id), counted before they are checked; past
/// <see cref="MaxAttempts"/> the sender is refused linking until the counter expires; a link clears it.</item>
/// <item><see cref="GuessesWithoutPhoneKey"/>: codes sent by all senders without a phone together, counted the same
/// way; past <see cref="GuessesWithoutPhonePerWindow"/> every one of them is refused until it expires.</item>
/// <item><see cref="CountedKeyFor"/>: a LINK message already counted, so that a message checked again (its batch
/// retried, or a check Redis ran late, after an outage) counts once.</item>
/// <item><see cref="IssuedToUserKeyFor"/>, <see cref="IssuedForPhoneKeyFor"/>: codes issued in the current
/// <see cref="IssuanceWindow"/>, per user and per claimed phone.</item>
/// </list>
/// </summary>
public static class LinkCodes
{
    public const int CodeLength = 6;

    /// <summary>
    /// Digits of the code a sender without a phone links with: 10^16 codes, against at most
    /// <see cref="GuessesWithoutPhonePerWindow"/> guesses per <see cref="TimeToLive"/> (README: the odds).
    /// </summary>
    public const int CodeWithoutPhoneLength = 16;

    /// <summary>Codes sent by one phone (or user id) without a link before it is refused linking for <see cref="TimeToLive"/>.</summary>
    public const int MaxAttempts = 5;

    /// <summary>
    /// Codes all senders without a phone may send together per <see cref="TimeToLive"/> without a link: any number of
    /// user ids can be had, so a limit per sender does not bound guesses. Past it, linking without a phone waits for
    /// the window to close, for everybody.
    /// </summary>
    public const int GuessesWithoutPhonePerWindow = 100;

    public const string GuessesWithoutPhoneKey = "ava:whatsapp-link-guesses-without-phone";

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

    public static string PendingCodeWithoutPhoneKeyFor(Guid userId) => $"ava:whatsapp-link-pending-without-phone:{userId:D}";

    /// <param name="sender">A normalised phone, or a business-scoped user id for a sender without one.</param>
    public static string AttemptsKeyFor(string sender) => $"ava:whatsapp-link-attempts:{sender}";

    /// <param name="wamid">The LINK message's id.</param>
    public static string CountedKeyFor(string wamid) => $"ava:whatsapp-link-counted:{wamid}";

    public static string IssuedToUserKeyFor(Guid userId) => $"ava:whatsapp-link-issued-user:{userId:D}";

    public static string IssuedForPhoneKeyFor(string phone) => $"ava:whatsapp-link-issued-phone:{phone}";
}

/// <summary>What a pending code stands for: the user it was issued to and the phone that user claims.</summary>
/// <param name="Phone">Normalised (<see cref="PhoneNumbers.Normalize"/>).</param>
/// <param name="AccountLabel">How the account is named (see <see cref="LabelFor"/>); never shown in a WhatsApp message.</param>
public sealed record PendingLink(Guid UserId, string Phone, string AccountLabel)
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

    public static bool TryParse(string? stored, [NotNullWhen(true)] out PendingLink? link)
    {
        link = null;
        var parts = stored?.Split(Separator, 3);
        if (parts is not [var user, var phone, var label] || !Guid.TryParseExact(user, "D", out var userId) || phone.Length == 0)
        {
            return false;
        }

        link = new PendingLink(userId, phone, label);
        return true;
    }

    /// <summary>
    /// Whether the code may link this sender: a sender with a phone must send from the phone its user claimed; a
    /// sender without one (known by their business-scoped user id) is admitted on the long code alone, which only its
    /// user was given — never on the short one, which a few guesses could find.
    /// </summary>
    /// <param name="senderPhone">The sender's phone; null when Meta withholds it.</param>
    /// <param name="code">The code as sent.</param>
    public bool Admits(string? senderPhone, string code) =>
        senderPhone is null ? code.Length == LinkCodes.CodeWithoutPhoneLength : string.Equals(Phone, senderPhone, StringComparison.Ordinal);

    /// <summary>
    /// The account as its owner knows it: the token's email, else its phone, else the start of its id. It stays out
    /// of WhatsApp messages: whoever sends a code — a guesser too — must not learn whose account it is.
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
