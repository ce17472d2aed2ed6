namespace Ava.WebhookApi.WhatsApp.Model;

/// <summary>A <c>LINK &lt;code&gt;</c> message and what its code turned out to be.</summary>
/// <param name="Phone">The sender's phone; null for a user who adopted a username and whose phone Meta withholds.</param>
/// <param name="UserId">The user the code was issued to; null when it does not link (wrong, expired, another phone's, or refused).</param>
/// <param name="Refused">
/// The sender — or, without a phone, all senders without one — sent too many codes lately: no code links them until
/// the count expires.
/// </param>
/// <param name="WhatsAppUserId">The sender's business-scoped user id, linked with the phone, or instead of it.</param>
/// <param name="Username">The sender's username, kept with the link to show the account by.</param>
/// <param name="ClaimedPhone">
/// For a sender without a phone, the phone the code's user claimed: not proven by this link, it stays linked only if
/// it already was, to the same user.
/// </param>
/// <param name="Deferred">
/// Redis could not be asked about the code: the message waits to be processed again on its own, and neither its
/// batch nor its delivery's other messages wait with it.
/// </param>
internal sealed record LinkAttempt(
    string? Phone,
    string Code,
    Guid? UserId,
    bool Refused = false,
    string? WhatsAppUserId = null,
    string? Username = null,
    string? ClaimedPhone = null,
    bool Deferred = false)
{
    public bool Succeeded => UserId is not null;

    /// <summary>Who sent it, as codes are counted: the phone, else the user id.</summary>
    public string Sender => Phone ?? WhatsAppUserId ?? throw new InvalidOperationException("A LINK message has a phone or a user id.");
}
