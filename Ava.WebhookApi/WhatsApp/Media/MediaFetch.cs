namespace Ava.WebhookApi.WhatsApp.Media;

/// <summary>What became of one attempt to fetch a media's bytes from Meta.</summary>
internal enum MediaFetchOutcome
{
    /// <summary>The bytes are in <see cref="MediaFetch.Content"/>, checked against Meta's SHA-256.</summary>
    Fetched,

    /// <summary>Bigger than Ava keeps of its type (Meta's declared size, or the bytes as they came).</summary>
    TooLarge,

    /// <summary>Meta or the network failed this time (5xx, 429, a timeout, an expired URL): try again.</summary>
    Transient,

    /// <summary>Meta no longer knows the media id (or refuses it for good).</summary>
    Gone,

    /// <summary>Meta refused the access token: nobody's attempt; it waits for a valid token.</summary>
    TokenRefused,

    /// <summary>Meta's answer pointed somewhere Ava does not fetch from (see <see cref="MediaRules.IsFetchable"/>).</summary>
    UrlRefused,

    /// <summary>The bytes are not the ones Meta described.</summary>
    ChecksumMismatch,
}

/// <summary>One attempt's result; dispose it to delete the temporary file holding fetched bytes.</summary>
/// <param name="Size">The bytes fetched, or for <see cref="MediaFetchOutcome.TooLarge"/> the size Meta declared (when it did).</param>
/// <param name="MimeType">The type Meta gave when it fetched the URL.</param>
internal sealed record MediaFetch(
    MediaFetchOutcome Outcome, string? Error = null, TimeSpan? RetryAfter = null, long? Size = null, string? MimeType = null, Stream? Content = null)
    : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Content?.DisposeAsync() ?? ValueTask.CompletedTask;
}
