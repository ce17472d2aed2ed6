namespace Ava.WhatsAppSimulator;

/// <summary>What the simulator shares with Ava: the same WHATSAPP_* secrets, and where Ava's webhook is.</summary>
public sealed class SimulatorOptions
{
    /// <summary>The bearer token the send endpoint accepts.</summary>
    [ConfigurationKeyName("WHATSAPP_ACCESS_TOKEN")]
    public string? AccessToken { get; set; }

    /// <summary>The app secret deliveries are signed with.</summary>
    [ConfigurationKeyName("WHATSAPP_APP_SECRET")]
    public string? AppSecret { get; set; }

    /// <summary>Ava's business phone number id, used in deliveries that do not name one.</summary>
    [ConfigurationKeyName("WHATSAPP_PHONE_NUMBER_ID")]
    public string PhoneNumberId { get; set; } = "100000000000001";

    /// <summary>
    /// Whether accepted sends are followed by their statuses (sent, delivered, read), as a phone that reads its
    /// messages would cause. Off where a test decides which statuses arrive.
    /// </summary>
    [ConfigurationKeyName("SIMULATOR_SEND_STATUSES")]
    public bool SendStatuses { get; set; }

    /// <summary>Ava's webhook (resolved through service discovery).</summary>
    [ConfigurationKeyName("SIMULATOR_WEBHOOK_URL")]
    public Uri WebhookUrl { get; set; } = new("http://webhookapi/webhook");
}
