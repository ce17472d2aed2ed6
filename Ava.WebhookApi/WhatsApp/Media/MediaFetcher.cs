using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Ava.Data.Media;
using Ava.WebhookApi.WhatsApp.Sending;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Media;

/// <summary>
/// Fetches a media's bytes from Meta in its two steps — a fresh URL for the media id, then the bytes at that URL, both
/// with the access token — into a temporary file, hashed and counted as they stream, so that no download holds a
/// file in memory and none is kept before its SHA-256 is checked. Redirects are followed only to where Ava may fetch.
/// </summary>
internal sealed class MediaFetcher(
    GraphApiClient graph,
    IHttpClientFactory httpClients,
    TimeProvider clock,
    IOptions<WhatsAppCloudApiOptions> cloudApi,
    IOptions<MediaOptions> options)
{
    public const string HttpClientName = "whatsapp-media";

    private const int MaxRedirects = 3;

    public async Task<MediaFetch> FetchAsync(ClaimedMedia media, CancellationToken cancellationToken)
    {
        var (lookup, described) = await graph.LookUpMediaAsync(media.MetaMediaId, cancellationToken);
        switch (lookup.Outcome)
        {
            case GraphSendOutcome.Credential when lookup.RefusesToken:
                return new MediaFetch(MediaFetchOutcome.TokenRefused, Describe("looking up the media", lookup));
            case GraphSendOutcome.Transient:
                return new MediaFetch(MediaFetchOutcome.Transient, Describe("looking up the media", lookup), lookup.RetryAfter);
            case not GraphSendOutcome.Accepted:
                return new MediaFetch(MediaFetchOutcome.Gone, Describe("looking up the media", lookup));
        }

        var maxBytes = MediaRules.MaxBytes(media.Type, options.Value.MaxBytes);
        if (described?.FileSize is { } declared && declared > maxBytes)
        {
            return TooLarge(declared, maxBytes, described.MimeType);
        }

        if (!Uri.TryCreate(described?.Url, UriKind.Absolute, out var url) || !MediaRules.IsFetchable(url, cloudApi.Value.AllowLoopbackHttpGraphApi))
        {
            return new MediaFetch(MediaFetchOutcome.UrlRefused, $"Meta's answer for media {media.MetaMediaId} named a URL Ava does not fetch from");
        }

        return await DownloadAsync(media, url, maxBytes, described?.MimeType, described?.Sha256, cancellationToken);
    }

    private async Task<MediaFetch> DownloadAsync(
        ClaimedMedia media, Uri url, long maxBytes, string? mimeType, string? sha256, CancellationToken cancellationToken)
    {
        var http = httpClients.CreateClient(HttpClientName);
        HttpResponseMessage? response = null;
        try
        {
            for (var redirects = 0; ; redirects++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", cloudApi.Value.AccessToken);
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (response.StatusCode is not (HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
                    or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect))
                {
                    break;
                }

                var next = response.Headers.Location is { } location ? new Uri(url, location) : null;
                response.Dispose();
                response = null;
                if (redirects == MaxRedirects || !MediaRules.IsFetchable(next, cloudApi.Value.AllowLoopbackHttpGraphApi))
                {
                    return new MediaFetch(MediaFetchOutcome.UrlRefused, $"The download of media {media.MetaMediaId} was redirected where Ava does not fetch from");
                }

                url = next!;
            }

            if (!response.IsSuccessStatusCode)
            {
                // The URL expired (it lives 5 minutes), or Meta failed: a fresh lookup next time.
                return new MediaFetch(
                    MediaFetchOutcome.Transient,
                    $"Downloading media {media.MetaMediaId}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}",
                    RetryAfter(response));
            }

            if (response.Content.Headers.ContentLength is { } length && length > maxBytes)
            {
                return TooLarge(length, maxBytes, mimeType);
            }

            return await SaveAsync(media, response, maxBytes, mimeType ?? response.Content.Headers.ContentType?.MediaType, sha256, cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new MediaFetch(MediaFetchOutcome.Transient, $"Downloading media {media.MetaMediaId}: {exception.GetType().Name}: {exception.Message}");
        }
        finally
        {
            response?.Dispose();
        }
    }

    /// <summary>Streams the bytes into a temporary file, deleted when the fetch is disposed, hashing them on the way.</summary>
    private async Task<MediaFetch> SaveAsync(
        ClaimedMedia media, HttpResponseMessage response, long maxBytes, string? mimeType, string? sha256, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.Value.TemporaryDirectory);
        var file = new FileStream(
            Path.Combine(options.Value.TemporaryDirectory, Path.GetRandomFileName()),
            FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 81_920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        var kept = false;
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[81_920];
            long size = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                size += read;
                if (size > maxBytes)
                {
                    // Meta declared less than it sent, or nothing: what came is already too much.
                    return TooLarge(null, maxBytes, mimeType);
                }

                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }

            var digest = hash.GetHashAndReset();
            if (!MediaSha256.Matches(sha256, digest) || !MediaSha256.Matches(media.Sha256, digest))
            {
                return new MediaFetch(MediaFetchOutcome.ChecksumMismatch, $"The bytes of media {media.MetaMediaId} do not match Meta's SHA-256");
            }

            await file.FlushAsync(cancellationToken);
            file.Position = 0;
            kept = true;
            return new MediaFetch(MediaFetchOutcome.Fetched, Size: size, MimeType: mimeType, Content: file);
        }
        finally
        {
            if (!kept)
            {
                await file.DisposeAsync();
            }
        }
    }

    private static MediaFetch TooLarge(long? size, long maxBytes, string? mimeType) => new(
        MediaFetchOutcome.TooLarge,
        $"{(size is { } declared ? $"{declared:N0} bytes" : "More")} than the {maxBytes:N0} bytes Ava keeps of its type",
        Size: size,
        MimeType: mimeType);

    private static string Describe(string step, GraphSendResult result) =>
        $"{step}: Meta code {result.ErrorCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}: {result.ErrorTitle}";

    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - clock.GetUtcNow(),
        _ => null,
    };
}
