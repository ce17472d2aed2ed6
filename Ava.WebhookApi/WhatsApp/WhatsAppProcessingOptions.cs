namespace Ava.WebhookApi.WhatsApp;

/// <summary>How the webhook stores, processes and sends: Ava's own tuning, under <c>WhatsApp:</c>.</summary>
public sealed class WhatsAppProcessingOptions
{
    public const string SectionName = "WhatsApp";

    /// <summary>Meta sends up to 3 MB in one delivery.</summary>
    public int MaxDeliveryBytes { get; set; } = 3 * 1024 * 1024;

    /// <summary>
    /// Where deliveries go when Postgres cannot take them (fsynced files, drained into Postgres when it is back).
    /// Must survive a restart of the service: a volume in production.
    /// </summary>
    public string SpoolDirectory { get; set; } = Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
        "Ava", "webhook-spool");

    /// <summary>How long storing a delivery in Postgres may take before it goes to the spool instead.</summary>
    public TimeSpan InboxWriteTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How often workers look for work made by other instances (their own work wakes them at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a claimed delivery or reply is held before another worker may take it over.</summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>After this many failed attempts a delivery is set aside as failed.</summary>
    public int MaxProcessingAttempts { get; set; } = 10;

    /// <summary>After this many transient failures a reply is given up as failed.</summary>
    public int MaxSendAttempts { get; set; } = 10;

    /// <summary>First retry delay of a send; doubled each attempt, with jitter, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Sends in flight at once (Cloud API allows 80 messages/s per number by default).</summary>
    public int MaxConcurrentSends { get; set; } = 16;
}
