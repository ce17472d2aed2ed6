using Ava.WebhookApi.WhatsApp.Model;
using Ava.WebhookApi.WhatsApp.Storage;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>A claimed delivery as read.</summary>
/// <param name="Token">The claim it is held under.</param>
/// <param name="Contents">Null when the body is not a WhatsApp notification.</param>
/// <param name="TraceParent">The trace of the delivery's processing, which its replies continue.</param>
internal sealed record DecodedDelivery(long DeliveryId, Guid Token, NotificationContents? Contents, string? TraceParent);

/// <summary>What a batch of deliveries comes to, once the messages seen before are set apart.</summary>
/// <param name="Links">LINK attempts of new messages: the ones that succeeded are applied, the wrong ones counted.</param>
/// <param name="Adoptions">User ids to record with the linked accounts whose phones Meta paired them with.</param>
/// <param name="UserIdChanges">Replaced user ids, in the order Meta reported them: a link moves to the new id.</param>
/// <param name="PhoneChanges">Users' new phone numbers, in the order Meta reported them: a link moves to the new number.</param>
/// <param name="Deferred">
/// Deliveries with a LINK whose code could not be checked (see <see cref="LinkAttempt.Deferred"/>): not completed, but
/// handed back to be processed again, when only that LINK is new.
/// </param>
/// <param name="AcceptedSends">Replies the statuses show Meta accepted, one per reply, in id order.</param>
/// <param name="Received">New messages by type, for the metrics.</param>
/// <param name="RegistrationCandidates">
/// For each sender linked to nobody who would be sent the registration instructions (by phone, or business-scoped
/// user id without one), the first such message (its wamid): what <see cref="RegistrationReplyThrottle"/> decides about.
/// </param>
/// <param name="Turns">Linked users' messages for the responder, when one answers instead of Ava's echo.</param>
/// <param name="Media">Linked users' media to keep; strangers' media is not fetched (it would have no owner).</param>
internal sealed record DeliveryPlan(
    IReadOnlyList<HistoryRow> History,
    IReadOnlyList<ReplyRow> Replies,
    IReadOnlyList<TurnRow> Turns,
    IReadOnlyList<MediaRow> Media,
    IReadOnlyList<LinkAttempt> Links,
    IReadOnlyList<IncomingStatus> Statuses,
    IReadOnlyList<AcceptedSend> AcceptedSends,
    IReadOnlyList<DeliveryOutcome> Outcomes,
    IReadOnlyDictionary<string, int> Received,
    int Duplicates,
    IReadOnlyDictionary<string, string> RegistrationCandidates,
    IReadOnlyList<UserIdAdoption> Adoptions,
    IReadOnlyList<UserIdChange> UserIdChanges,
    IReadOnlyList<PhoneNumberChange> PhoneChanges,
    IReadOnlyList<long> Deferred);

/// <summary>The settings that shape a plan.</summary>
/// <param name="DefaultPhoneNumberId">The number replies go from when a message does not name the one it arrived on (<c>WHATSAPP_PHONE_NUMBER_ID</c>).</param>
/// <param name="ResponderAnswers">Whether a responder answers linked users (their messages become turns) instead of Ava's echo.</param>
internal sealed record PlanningRules(string RegistrationMessage, TimeSpan ReplyWindow, string? DefaultPhoneNumberId = null, bool ResponderAnswers = false);
