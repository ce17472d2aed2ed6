using System.Diagnostics;
using System.Globalization;
using Ava.WebhookApi.WhatsApp.Storage;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>
/// Marks the message a reply answers read, with the typing indicator, just before the reply goes (Meta's one call for
/// both): the person sees blue ticks and "typing…" as Ava starts answering, and the reply itself dismisses the
/// indicator. Best effort: it holds the reply back at most <see cref="s_patience"/>, is never retried, and a failure
/// is logged and dropped — except that a refused access token pauses sending, as any refusal does.
/// </summary>
internal sealed partial class ReadReceipts(
    GraphApiClient graph, AccessTokenMonitor accessToken, WhatsAppTelemetry telemetry, TimeProvider clock, ILogger<ReadReceipts> logger)
{
    /// <summary>How long the reply waits for the read receipt: it is only worth a moment.</summary>
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(2);

    /// <param name="processedIn">The trace of the message's processing, which the call continues.</param>
    public async Task MarkReadWithTypingAsync(ClaimedReply reply, string inboundWamid, ActivityContext processedIn)
    {
        using var activity = WhatsAppTelemetry.ActivitySource.StartActivity("graph mark read", ActivityKind.Internal, processedIn);
        activity?.SetTag("ava.reply.id", reply.Id);

        GraphSendResult result;
        try
        {
            using var patience = new CancellationTokenSource(s_patience, clock);
            result = await graph.MarkReadWithTypingAsync(reply.PhoneNumberId, inboundWamid, patience.Token);
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
            case GraphSendOutcome.Credential:
                accessToken.Refused(result);
                break;
            default:
                LogNotMarked(logger, reply.Id, result.ErrorCode, result.ErrorTitle);
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not mark the message of reply {ReplyId} read ({ErrorCode}: {ErrorTitle}); the reply goes without it")]
    private static partial void LogNotMarked(ILogger logger, long replyId, int? errorCode, string? errorTitle);
}
