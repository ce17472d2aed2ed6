using System.Security.Cryptography;
using Ava.Data.Media;
using Ava.WebhookApi.WhatsApp.Media;
using Ava.WebhookApi.WhatsApp.Storage;

namespace Ava.Tests.Unit;

/// <summary>What Ava fetches of the media users send, and what a fetch that kept nothing comes to.</summary>
public sealed class MediaRulesTests
{
    private static readonly DateTimeOffset s_now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly MediaOptions s_settings = new();

    [Theory]
    [InlineData("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&ext=2", false, true)]
    [InlineData("https://scontent.whatsapp.net/v/t1/abc", false, true)]
    [InlineData("https://media.fbcdn.net/x", false, true)]
    [InlineData("http://lookaside.fbsbx.com/x", false, false)]
    [InlineData("https://lookaside.fbsbx.com:8443/x", false, false)]
    [InlineData("https://fbsbx.com.attacker.example/x", false, false)]
    [InlineData("https://notfbsbx.com/x", false, false)]
    [InlineData("https://user:pass@lookaside.fbsbx.com/x", false, false)]
    [InlineData("https://169.254.169.254/latest/meta-data", false, false)]
    [InlineData("http://localhost:5000/media-download/abc", false, false)]
    [InlineData("http://localhost:5000/media-download/abc", true, true)]
    [InlineData("http://127.0.0.1:5000/media-download/abc", true, true)]
    [InlineData("http://[::1]:5000/media-download/abc", true, true)]
    [InlineData("http://10.0.0.7/internal", true, false)]
    [InlineData("file:///etc/passwd", true, false)]
    public void Only_https_on_metas_hosts_is_fetched_and_this_machine_only_where_loopback_is_allowed(string url, bool allowLoopback, bool fetchable)
    {
        Assert.Equal(fetchable, MediaRules.IsFetchable(new Uri(url), allowLoopback));
    }

    [Theory]
    [InlineData("image", 5 * 1024 * 1024)]
    [InlineData("audio", 16 * 1024 * 1024)]
    [InlineData("video", 16 * 1024 * 1024)]
    [InlineData("document", 100 * 1024 * 1024)]
    [InlineData("sticker", 500 * 1024)]
    public void What_is_kept_is_capped_by_metas_limit_for_the_type_and_by_the_setting(string type, long metaLimit)
    {
        Assert.Equal(metaLimit, MediaRules.MaxBytes(type, long.MaxValue));
        Assert.Equal(1000, MediaRules.MaxBytes(type, 1000));
    }

    [Fact]
    public void Bytes_match_metas_sha256_in_base64_as_webhooks_carry_it_or_in_hex_as_the_media_url_gives_it()
    {
        var digest = SHA256.HashData("a photo"u8);

        Assert.True(MediaSha256.Matches(Convert.ToBase64String(digest), digest));
        Assert.True(MediaSha256.Matches(Convert.ToHexString(digest).ToLowerInvariant(), digest));
        Assert.True(MediaSha256.Matches(null, digest));
        Assert.False(MediaSha256.Matches(Convert.ToBase64String(SHA256.HashData("another"u8)), digest));
        Assert.False(MediaSha256.Matches(Convert.ToHexString(SHA256.HashData("another"u8)), digest));
    }

    [Fact]
    public void A_failed_fetch_is_tried_again_with_a_growing_delay_never_sooner_than_retry_after()
    {
        var first = Decide(Media(attempts: 0), new MediaFetch(MediaFetchOutcome.Transient, "HTTP 500"));
        var sixth = Decide(Media(attempts: 5), new MediaFetch(MediaFetchOutcome.Transient, "HTTP 500"));
        var throttled = Decide(Media(attempts: 0), new MediaFetch(MediaFetchOutcome.Transient, "HTTP 429", RetryAfter: TimeSpan.FromSeconds(40)));

        Assert.Equal((MediaStatus.Pending, true), (first.Status, first.Attempted));
        Assert.InRange(first.RetryIn!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        Assert.InRange(sixth.RetryIn!.Value, TimeSpan.FromSeconds(32), TimeSpan.FromSeconds(64));
        Assert.Equal(TimeSpan.FromSeconds(40), throttled.RetryIn);
    }

    [Fact]
    public void A_media_id_that_expires_before_the_next_try_fails_with_the_reason()
    {
        var late = Decide(Media(attempts: 9, expiresIn: TimeSpan.FromSeconds(30)), new MediaFetch(MediaFetchOutcome.Transient, "HTTP 503"));
        var expired = MediaDownloadPolicy.Expired(Media(expiresIn: TimeSpan.FromSeconds(-1)), s_now);

        Assert.Equal(MediaStatus.Failed, late.Status);
        Assert.Contains("expired", late.Error, StringComparison.Ordinal);
        Assert.Contains("HTTP 503", late.Error, StringComparison.Ordinal);
        Assert.Equal((MediaStatus.Failed, false), (expired!.Status, expired.Attempted));
        Assert.Null(MediaDownloadPolicy.Expired(Media(), s_now));
    }

    [Fact]
    public void A_checksum_mismatch_is_tried_again_then_fails()
    {
        var mismatch = new MediaFetch(MediaFetchOutcome.ChecksumMismatch, "bytes differ");

        Assert.Equal(MediaStatus.Pending, Decide(Media(attempts: s_settings.ChecksumAttempts - 2), mismatch).Status);
        Assert.Equal(MediaStatus.Failed, Decide(Media(attempts: s_settings.ChecksumAttempts - 1), mismatch).Status);
    }

    [Fact]
    public void Too_large_gone_and_refused_urls_end_at_once_and_a_refused_token_is_nobodys_attempt()
    {
        var tooLarge = Decide(Media(), new MediaFetch(MediaFetchOutcome.TooLarge, "too big", Size: 7_000_000, MimeType: "image/png"));
        var gone = Decide(Media(), new MediaFetch(MediaFetchOutcome.Gone, "unknown id"));
        var elsewhere = Decide(Media(), new MediaFetch(MediaFetchOutcome.UrlRefused, "not Meta"));
        var token = Decide(Media(), new MediaFetch(MediaFetchOutcome.TokenRefused, "190"));

        Assert.Equal((MediaStatus.TooLarge, 7_000_000L, "image/png"), (tooLarge.Status, tooLarge.Size!.Value, tooLarge.MimeType!));
        Assert.Equal(MediaStatus.Failed, gone.Status);
        Assert.Equal(MediaStatus.Failed, elsewhere.Status);
        Assert.Equal((MediaStatus.Pending, false, MediaDownloadPolicy.TokenRefusedDelay), (token.Status, token.Attempted, token.RetryIn!.Value));
    }

    private static MediaOutcome Decide(ClaimedMedia media, MediaFetch fetch) => MediaDownloadPolicy.Decide(media, fetch, s_now, s_settings);

    private static ClaimedMedia Media(int attempts = 0, TimeSpan? expiresIn = null) => new(
        7, Guid.CreateVersion7(), Guid.NewGuid(), "wamid.M", "meta-7", "image", "image/jpeg", null, attempts, s_now + (expiresIn ?? TimeSpan.FromDays(6)), null);
}
