using System.Globalization;
using Ava.WebhookApi.WhatsApp.Storage;

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

    /// <summary>
    /// How long a claimed delivery or reply is held without renewal before another instance may take it over: short,
    /// so that a dead instance's work moves on within seconds. Renewed every <see cref="LeaseRenewalInterval"/> while
    /// the work is in hand, and always longer than a Graph send may take (<see cref="GraphSendTimeout"/>).
    /// </summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromSeconds(14);

    public TimeSpan LeaseRenewalInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Deliveries claimed and written together, in one transaction.</summary>
    public int ProcessingBatchSize { get; set; } = 256;

    /// <summary>
    /// How long processing and the recording of send outcomes wait for a batch to fill before taking what there is:
    /// a few milliseconds of latency buy fewer, bigger transactions.
    /// </summary>
    public TimeSpan BatchLinger { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>Batches in progress at once per instance; few, so that acknowledging Meta keeps its share of the CPU.</summary>
    public int ProcessingConcurrency { get; set; } = 2;

    /// <summary>
    /// After this many failures of a delivery processed on its own — errors that are not an outage of Postgres or
    /// Redis, which never count — it is set aside as failed for a person to look at.
    /// </summary>
    public int MaxProcessingAttempts { get; set; } = 10;

    /// <summary>
    /// First retry delay of a failed delivery or send; doubled each attempt, with jitter, up to
    /// <see cref="MaxRetryDelay"/>, never sooner than Meta's Retry-After.
    /// </summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long after the user wrote a reply is still worth sending: Meta's customer-service window. Transient
    /// failures are retried until it closes; then the reply fails with Meta's reason (131047).
    /// </summary>
    public TimeSpan ReplyWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Graph sends in flight at once per instance.</summary>
    public int MaxConcurrentSends { get; set; } = 64;

    /// <summary>Replies claimed at once; claimed replies wait for a send slot and for their number's pace.</summary>
    public int SendBatchSize { get; set; } = 256;

    /// <summary>How long one Graph send may take; shorter than <see cref="ClaimLease"/> minus a renewal interval.</summary>
    public TimeSpan GraphSendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Messages per second each business number may send (Meta's default tier: 80), shared by all instances.</summary>
    public int MessagesPerSecondPerNumber { get; set; } = 80;

    /// <summary>Numbers on a higher tier (up to 1,000/s), by phone number id: <c>WhatsApp:NumberRates:&lt;id&gt;=1000</c>.</summary>
    public Dictionary<string, int> NumberRates { get; set; } = [];

    /// <summary>How often the access token is checked against the Graph API while it works (and once at start).</summary>
    public TimeSpan TokenCheckInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How often it is checked while sending is paused because the Graph API refused it (or before any check was
    /// answered): the first check it passes resumes sending.
    /// </summary>
    public TimeSpan PausedTokenCheckInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Whether a message Ava answers is marked read (blue ticks) with the typing indicator, just before the reply
    /// goes. Best effort: a failure of that call is logged and the reply goes anyway.
    /// </summary>
    public bool MarkReadAndTyping { get; set; } = true;

    /// <summary>
    /// How often a sender linked to no account is sent the registration instructions, however many messages they
    /// write; zero answers every message.
    /// </summary>
    public TimeSpan RegistrationReplyInterval { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Processed deliveries (raw bodies), dedup records, replies no longer pending and delivery statuses are kept
    /// this long, then purged.
    /// </summary>
    public TimeSpan DeliveryRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Deliveries set aside and replies that failed for good are kept this long (unless replayed, which makes them
    /// new work): long enough for a person to notice, fix the cause and replay them.
    /// </summary>
    public TimeSpan FailedRetention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>
    /// A send starts only while its lease surely holds for its timeout and this much more, the time to record it:
    /// so no other instance can take the reply over while it may be on its way to Meta.
    /// </summary>
    public static readonly TimeSpan RecordMargin = TimeSpan.FromSeconds(1);

    /// <summary>The rate of one business number, from <see cref="NumberRates"/> or the default tier.</summary>
    public int RateOf(string phoneNumberId) =>
        NumberRates.TryGetValue(phoneNumberId, out var rate) && rate > 0 ? rate : MessagesPerSecondPerNumber;

    /// <returns>What is wrong with these settings, or null when they hold together.</returns>
    public string? Problem() =>
        ClaimLease <= LeaseRenewalInterval * 2 ? "WhatsApp:ClaimLease must be more than twice WhatsApp:LeaseRenewalInterval."
        : ClaimLease <= WebhookDataSource.IdleInTransactionTimeout ? string.Create(CultureInfo.InvariantCulture, $"WhatsApp:ClaimLease must be longer than the webhook's idle-in-transaction timeout ({WebhookDataSource.IdleInTransactionTimeout.TotalSeconds} s), so that a cut-off holder's locks are gone by the time its claim is taken over.")
        : GraphSendTimeout + RecordMargin >= ClaimLease - LeaseRenewalInterval ? "WhatsApp:GraphSendTimeout must be more than a second shorter than WhatsApp:ClaimLease minus WhatsApp:LeaseRenewalInterval, so that sends start while their lease holds and end inside it."
        : ProcessingBatchSize < 1 || ProcessingConcurrency < 1 || MaxConcurrentSends < 1 || SendBatchSize < 1 ? "WhatsApp batch sizes and concurrency must be at least 1."
        : MessagesPerSecondPerNumber < 1 ? "WhatsApp:MessagesPerSecondPerNumber must be at least 1."
        : DeliveryRetention < TimeSpan.FromDays(8) ? "WhatsApp:DeliveryRetention must be at least 8 days: Meta retries deliveries for up to 7 days, and the dedup records must outlive that."
        : FailedRetention < DeliveryRetention ? "WhatsApp:FailedRetention must be at least WhatsApp:DeliveryRetention: what failed is kept for a person to replay."
        : new[] { TokenCheckInterval, PausedTokenCheckInterval }.Any(i => i < TimeSpan.FromSeconds(1) || i > TimeSpan.FromDays(1)) ? "WhatsApp:TokenCheckInterval and WhatsApp:PausedTokenCheckInterval must be between a second and a day."
        : RegistrationReplyInterval < TimeSpan.Zero ? "WhatsApp:RegistrationReplyInterval must not be negative (zero answers every message)."
        : null;
}
