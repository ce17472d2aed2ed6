using System.ComponentModel.DataAnnotations;

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

    /// <summary>
    /// Ava's business phone number id, used in deliveries that do not name one. The AppHost passes the one it gives
    /// the webhook, so that the simulated number is defined in one place.
    /// </summary>
    [ConfigurationKeyName("WHATSAPP_PHONE_NUMBER_ID")]
    [Required]
    public string PhoneNumberId { get; set; } = "";

    /// <summary>
    /// Whether accepted sends are followed by their statuses (sent, delivered, read), as a phone that reads its
    /// messages would cause. Off where a test decides which statuses arrive.
    /// </summary>
    [ConfigurationKeyName("SIMULATOR_SEND_STATUSES")]
    public bool SendStatuses { get; set; }

    /// <summary>Ava's webhook (resolved through service discovery).</summary>
    [ConfigurationKeyName("SIMULATOR_WEBHOOK_URL")]
    public Uri WebhookUrl { get; set; } = new("http://webhookapi/webhook");

    /// <summary>How long a media download URL works after the lookup that gave it: Meta's last 5 minutes.</summary>
    [ConfigurationKeyName("SIMULATOR_MEDIA_URL_LIFETIME")]
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MediaUrlLifetime { get; set; } = TimeSpan.FromMinutes(5);
}
