using Ava.Data.Media;
using Ava.WebhookApi.WhatsApp.Storage;

namespace Ava.WebhookApi.WhatsApp.Media;

/// <summary>
/// What a fetch that kept nothing means for the media: given up (failed, or too large, with the reason) or tried
/// again after an exponential, jittered delay — never sooner than Meta's Retry-After, and for as long as Meta's media
/// id lives. A refused access token is nobody's attempt: the media waits for a valid one.
/// </summary>
internal static class MediaDownloadPolicy
{
    /// <summary>How long media waits while Meta refuses the access token (the token is checked again about as often).</summary>
    public static readonly TimeSpan TokenRefusedDelay = TimeSpan.FromSeconds(15);

    /// <returns>The media's failure when Meta's id expired before it could be fetched; null while it lives.</returns>
    public static MediaOutcome? Expired(ClaimedMedia media, DateTimeOffset now) =>
        now < media.ExpiresAt ? null : new MediaOutcome(MediaStatus.Failed, ExpiredError(media), Attempted: false);

    public static MediaOutcome Decide(ClaimedMedia media, MediaFetch fetch, DateTimeOffset now, MediaOptions settings, Random? random = null)
    {
        switch (fetch.Outcome)
        {
            case MediaFetchOutcome.TooLarge:
                return new MediaOutcome(MediaStatus.TooLarge, fetch.Error, Size: fetch.Size, MimeType: fetch.MimeType);
            case MediaFetchOutcome.Gone:
            case MediaFetchOutcome.UrlRefused:
                return new MediaOutcome(MediaStatus.Failed, fetch.Error);
            case MediaFetchOutcome.TokenRefused:
                return new MediaOutcome(MediaStatus.Pending, fetch.Error, TokenRefusedDelay, Attempted: false);
            case MediaFetchOutcome.ChecksumMismatch when media.Attempts + 1 >= settings.ChecksumAttempts:
                return new MediaOutcome(
                    MediaStatus.Failed, $"{fetch.Error} ({media.Attempts + 1} downloads; the bytes never matched Meta's SHA-256)");
        }

        var delay = Backoff.Delay(media.Attempts + 1, settings.RetryBaseDelay, settings.MaxRetryDelay, random);
        if (fetch.RetryAfter is { } retryAfter && retryAfter > delay)
        {
            delay = retryAfter;
        }

        return now + delay >= media.ExpiresAt
            ? new MediaOutcome(MediaStatus.Failed, $"{ExpiredError(media)} (last error: {fetch.Error})")
            : new MediaOutcome(MediaStatus.Pending, fetch.Error, delay);
    }

    private static string ExpiredError(ClaimedMedia media) =>
        $"Meta's media id {media.MetaMediaId} expired (7 days after the message) before Ava could download it";
}
