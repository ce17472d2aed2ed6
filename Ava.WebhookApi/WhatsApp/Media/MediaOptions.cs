namespace Ava.WebhookApi.WhatsApp.Media;

/// <summary>How the webhook keeps the media users send, under <c>WhatsApp:Media:</c>.</summary>
public sealed class MediaOptions
{
    public const string SectionName = "WhatsApp:Media";

    /// <summary>The most Ava keeps of one media, below Meta's own limit for its type (see <see cref="MediaRules.MetaLimit"/>); bigger is recorded as too large.</summary>
    public long MaxBytes { get; set; } = MediaRules.LargestMetaLimit;

    /// <summary>Downloads in progress at once per instance: each holds a connection to Meta and a temporary file, never the bytes in memory.</summary>
    public int MaxConcurrentDownloads { get; set; } = 8;

    /// <summary>
    /// The most media bytes per second this instance writes into the store (0: no limit). In Postgres, media shares the
    /// write-ahead log with the acknowledgements: unpaced, a burst of photos slows every answer to Meta. The default,
    /// 3 MiB/s (about 250 GB a day, bursts queued), kept the acknowledgements' p99 where text alone has it on a
    /// two-core machine; a faster disk can take more (docs/performance.md).
    /// </summary>
    public long MaxBytesPerSecond { get; set; } = 3 * 1024 * 1024;

    /// <summary>How long one download (the URL lookup and the bytes) may take before it is abandoned and tried again.</summary>
    public TimeSpan DownloadTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The first retry's delay after a failed download; later ones double, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Downloads whose bytes do not match Meta's SHA-256 before the media is given up as failed.</summary>
    public int ChecksumAttempts { get; set; } = 3;

    /// <summary>Where downloads are written before they are checked and kept (deleted as soon as they are).</summary>
    public string TemporaryDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "ava-media");

    /// <returns>What is wrong with the settings, or null when they hold together.</returns>
    public string? Problem() =>
        MaxBytes <= 0 ? "WhatsApp:Media:MaxBytes must be positive"
        : MaxConcurrentDownloads is < 1 or > 256 ? "WhatsApp:Media:MaxConcurrentDownloads must be between 1 and 256"
        : MaxBytesPerSecond < 0 ? "WhatsApp:Media:MaxBytesPerSecond must be 0 (no limit) or positive"
        : DownloadTimeout <= TimeSpan.Zero ? "WhatsApp:Media:DownloadTimeout must be positive"
        : RetryBaseDelay <= TimeSpan.Zero || MaxRetryDelay < RetryBaseDelay ? "WhatsApp:Media:RetryBaseDelay must be positive and at most MaxRetryDelay"
        : ChecksumAttempts < 1 ? "WhatsApp:Media:ChecksumAttempts must be at least 1"
        : string.IsNullOrWhiteSpace(TemporaryDirectory) ? "WhatsApp:Media:TemporaryDirectory must name a directory"
        : null;
}
