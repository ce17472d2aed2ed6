using System.Diagnostics;
using Ava.WebhookApi.WhatsApp.Sending;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Responding;

/// <summary>What the user sees while the responder thinks about their turn: their message read, and Ava typing.</summary>
internal sealed class TypingIndicator(
    ReadReceipts readReceipts,
    SendPacer pacer,
    AccessTokenMonitor accessToken,
    TimeProvider clock,
    IOptions<ResponderOptions> options,
    IOptions<WhatsAppProcessingOptions> processing)
{
    /// <summary>
    /// Marks the message read with the typing indicator, and shows the indicator again every
    /// <see cref="ResponderOptions.TypingRenewalInterval"/> for as long as the responder takes (Meta hides it after 25 s).
    /// </summary>
    public async Task KeepShowingAsync(ClaimedTurn turn, ActivityContext composing, CancellationToken cancellationToken)
    {
        if (!processing.Value.MarkReadAndTyping)
        {
            return;
        }

        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (!accessToken.SendingPaused)
                {
                    // Meta counts the call against the number's rate, like a reply.
                    await pacer.WaitTurnAsync(turn.PhoneNumberId, cancellationToken);
                    await readReceipts.MarkReadWithTypingAsync(turn.PhoneNumberId, turn.InboundWamid, composing);
                }

                // Every turn ends by cancelling this wait: ended without an exception, which would cost one per turn.
                await Task.Delay(options.Value.TypingRenewalInterval, clock, cancellationToken)
                    .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
