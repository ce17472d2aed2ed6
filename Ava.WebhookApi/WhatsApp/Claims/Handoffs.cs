using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Claims;

/// <summary>Deliveries the inbox writer stored already claimed, for this instance's processor.</summary>
internal sealed class InboxHandoff(IOptions<WhatsAppProcessingOptions> options)
    : WorkHandoff<ClaimedDelivery>(() => options.Value.ProcessingBatchSize * options.Value.ProcessingConcurrency * 2);

/// <summary>
/// Replies this instance's sender holds: handed over already claimed by the processor, or claimed by the sender's
/// own sweep. Its capacity is how many replies the sender keeps in hand at most.
/// </summary>
internal sealed class OutboxHandoff(IOptions<WhatsAppProcessingOptions> options)
    : WorkHandoff<ClaimedReply>(() => Math.Max(options.Value.SendBatchSize, options.Value.MaxConcurrentSends) * 2);
