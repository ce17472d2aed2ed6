namespace Ava.WebhookApi.WhatsApp.Model;

/// <summary>The Ava user a WhatsApp sender (a phone or a business-scoped user id) is linked to.</summary>
/// <param name="WhatsAppUserId">
/// The business-scoped user id that user's link records; null when it records none (linked by phone before Meta named
/// one). For a phone, it tells the person the link was made for from the number's next holder.
/// </param>
internal sealed record LinkedAccount(Guid UserId, string? WhatsAppUserId);
