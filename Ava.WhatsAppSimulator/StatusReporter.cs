using Ava.WhatsApp.Contracts;
using Ava.WhatsApp.Testing;

namespace Ava.WhatsAppSimulator;

/// <summary>Reports sent, delivered and read for an accepted message, a moment apart, as Meta would.</summary>
public sealed partial class StatusReporter(WebhookDeliverer deliverer, TimeProvider clock, ILogger<StatusReporter> logger)
{
    private static readonly TimeSpan s_step = TimeSpan.FromMilliseconds(500);

    /// <param name="recipient">Whom the message went to: a phone, or a business-scoped user id.</param>
    /// <param name="toUserId">
    /// Whether <paramref name="recipient"/> is a user id: Meta then names it in <c>recipient_user_id</c> and leaves out
    /// the phone (<c>recipient_id</c>), which the simulator does not know.
    /// </param>
    /// <param name="callbackData">The send's <c>biz_opaque_callback_data</c>, which Meta repeats in every status.</param>
    public void Report(string phoneNumberId, string wamid, string recipient, bool toUserId, string? callbackData) => _ = Task.Run(async () =>
    {
        foreach (var status in new[] { "sent", "delivered", "read" })
        {
            await Task.Delay(s_step, clock);
            var body = WebhookNotifications.Serialize(WebhookNotifications.Statuses(
                phoneNumberId,
                new WebhookStatus(
                    wamid,
                    status,
                    clock.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
                    toUserId ? null : recipient,
                    null,
                    callbackData,
                    RecipientUserId: toUserId ? recipient : null)));
            try
            {
                await deliverer.DeliverAsync(body, CancellationToken.None);
            }
            catch (HttpRequestException exception)
            {
                LogStatusNotDelivered(logger, status, exception);
            }
        }
    });

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not deliver the {Status} status to Ava's webhook")]
    private static partial void LogStatusNotDelivered(ILogger logger, string status, Exception exception);
}
