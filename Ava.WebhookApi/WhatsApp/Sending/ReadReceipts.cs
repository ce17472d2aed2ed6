using System.Diagnostics;
using System.Globalization;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>
/// Marks the message Ava answers read, with the typing indicator (Meta's one call for both): the person sees blue
/// ticks and "typing…" as Ava starts answering — just before Ava's own reply goes, or while the responder composes
/// one — and the reply itself dismisses the indicator. Best effort: it holds the work back at most
/// <see cref="s_patience"/>, is never retried, and a failure is logged and dropped — except that a refused access
/// token pauses sending, as any refusal does.
/// </summary>
internal sealed partial class ReadReceipts(
    GraphApiClient graph, AccessTokenMonitor accessToken, WhatsAppTelemetry telemetry, TimeProvider clock, ILogger<ReadReceipts> logger)
{
    /// <summary>How long the reply waits for the read receipt: it is only worth a moment.</summary>
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(2);

    /// <param name="processedIn">The trace of the message's processing, which the call continues.</param>
    public async Task MarkReadWithTypingAsync(string phoneNumberId, string inboundWamid, ActivityContext processedIn)
    {
        using var activity = WhatsAppTelemetry.ActivitySource.StartActivity("graph mark read", ActivityKind.Internal, processedIn);

        GraphSendResult result;
        try
        {
            using var patience = new CancellationTokenSource(s_patience, clock);
            result = await graph.MarkReadWithTypingAsync(phoneNumberId, inboundWamid, patience.Token);
        }
        catch (Exception exception)
        {
            // Whatever went wrong, the reply goes: cancelling a read receipt, unlike a send, costs nothing.
            result = new GraphSendResult(GraphSendOutcome.Transient, ErrorTitle: exception is OperationCanceledException
                ? string.Create(CultureInfo.InvariantCulture, $"no answer within {s_patience.TotalSeconds:0} s")
                : exception.GetType().Name + ": " + exception.Message);
        }

        activity?.SetTag("ava.read_receipt.outcome", result.Outcome.ToString());
        telemetry.ReadReceipts.Add(1, new KeyValuePair<string, object?>("outcome", result.Outcome.ToString()));
        switch (result.Outcome)
        {
            case GraphSendOutcome.Accepted:
                break;
            case GraphSendOutcome.Credential when result.RefusesToken:
                accessToken.Refused(result);
                break;
            default:
                LogNotMarked(logger, inboundWamid, result.ErrorCode, result.ErrorTitle);
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not mark message {Wamid} read ({ErrorCode}: {ErrorTitle}); Ava answers without it")]
    private static partial void LogNotMarked(ILogger logger, string wamid, int? errorCode, string? errorTitle);
}
