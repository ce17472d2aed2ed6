using System.Collections.Concurrent;
using Ava.WebhookApi.WhatsApp.Model;
using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>
/// The business numbers Ava is configured for: <c>WHATSAPP_PHONE_NUMBER_ID</c> and any with a rate of its own
/// (<c>WhatsApp:NumberRates</c>). Messages to another number of the same app are still answered, from the number they
/// arrived on, but a warning says so once per number: usually a webhook shared by several numbers, or the wrong
/// <c>WHATSAPP_PHONE_NUMBER_ID</c>, whose token check then says nothing about the numbers really in use.
/// </summary>
internal sealed partial class BusinessNumbers(
    IOptions<WhatsAppCloudApiOptions> whatsApp, IOptions<WhatsAppProcessingOptions> processing, ILogger<BusinessNumbers> logger)
{
    private readonly HashSet<string> _configured =
        [.. processing.Value.NumberRates.Keys, .. whatsApp.Value.PhoneNumberId is { } ava ? [ava] : Array.Empty<string>()];

    private readonly ConcurrentDictionary<string, bool> _warned = new(StringComparer.Ordinal);

    public bool IsConfigured(string phoneNumberId) => _configured.Contains(phoneNumberId);

    /// <summary>Warns, once per number, of messages that arrived on a number Ava is not configured for.</summary>
    public void WarnOfUnknown(IEnumerable<IncomingMessage> messages)
    {
        foreach (var message in messages)
        {
            if (message.PhoneNumberId is { } number && !IsConfigured(number) && _warned.TryAdd(number, true))
            {
                LogUnknownNumber(logger, number, whatsApp.Value.PhoneNumberId);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Messages arrive for business number {PhoneNumberId}, which Ava is not configured for (WHATSAPP_PHONE_NUMBER_ID is {ConfiguredNumber}); they are answered from the number they arrived on, but the access token check covers only the configured one")]
    private static partial void LogUnknownNumber(ILogger logger, string phoneNumberId, string? configuredNumber);
}
