using Ava.WhatsApp.Contracts;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.Options;

namespace Ava.WhatsAppSimulator;

/// <summary>
/// Meta's two steps to a customer's media, both with the access token: the media id gives a URL that lives a few
/// minutes, and the URL gives the bytes.
/// </summary>
internal static class MediaEndpoints
{
    /// <summary>Where the download URLs point, on the simulator itself (Meta's are on lookaside.fbsbx.com).</summary>
    public const string DownloadPath = "/media-download";

    /// <summary>Small enough that a download cut off is seen as a partial one in what the simulator records.</summary>
    private const int DownloadChunkBytes = 64 * 1024;

    /// <summary>
    /// GET /{version}/{media-id}: where the media can be downloaded, until when the URL lives. Every lookup is
    /// recorded, refused ones too.
    /// </summary>
    public static async Task<IResult> LookUpUrlAsync(
        string mediaId, HttpRequest request, GraphApiState state, MediaState media, IOptions<SimulatorOptions> options, TimeProvider clock)
    {
        if (GraphApiEndpoints.RefuseToken(request, state, options) is { } refused)
        {
            media.Record(mediaId, MediaStage.Url, refused.Status, refused.Code);
            return refused.Result;
        }

        if (media.Find(mediaId) is not { } stored)
        {
            media.Record(mediaId, MediaStage.Url, StatusCodes.Status400BadRequest, GraphApiEndpoints.UnknownObjectCode);
            return GraphApiEndpoints.UnknownObject(mediaId);
        }

        // Meta serves a lookup naming a business number only for media uploaded on that number, never a customer's.
        if (request.Query.ContainsKey("phone_number_id"))
        {
            media.Record(mediaId, MediaStage.Url, StatusCodes.Status400BadRequest, GraphApiEndpoints.UnknownObjectCode);
            return GraphApiEndpoints.GraphError(
                StatusCodes.Status400BadRequest, GraphApiEndpoints.UnknownObjectCode, "Param phone_number_id is not a valid whatsapp business phone number id ID");
        }

        var failure = media.TakeFailure(mediaId, MediaStage.Url);
        if (failure?.DelaySeconds is { } delay)
        {
            await Task.Delay(TimeSpan.FromSeconds(delay), clock, CancellationToken.None);
        }

        if (failure is { HttpStatus: not StatusCodes.Status200OK })
        {
            var code = failure.Code ?? 1;
            media.Record(mediaId, MediaStage.Url, failure.HttpStatus, code);
            return GraphApiEndpoints.GraphError(failure.HttpStatus, code, failure.Title ?? "Injected failure");
        }

        var expiresAt = clock.GetUtcNow() + (stored.UrlLifetime ?? options.Value.MediaUrlLifetime);
        var url = UriHelper.BuildAbsolute(request.Scheme, request.Host, request.PathBase, $"{DownloadPath}/{media.UrlToken(stored, expiresAt)}");
        media.Record(mediaId, MediaStage.Url, StatusCodes.Status200OK);
        return TypedResults.Json(
            new MediaDownloadUrl("whatsapp", url, stored.MimeType, stored.Sha256Hex, stored.Bytes.Length, stored.Id),
            WhatsAppJsonContext.Default.MediaDownloadUrl);
    }

    /// <summary>
    /// GET {url}: the bytes, with the access token, while the URL lives (404 after, as an expired lookaside URL
    /// answers). A URL the simulator did not make answers 404 too, and is not recorded: it names no media.
    /// </summary>
    public static async Task<IResult> DownloadAsync(
        string token, HttpContext context, GraphApiState state, MediaState media, IOptions<SimulatorOptions> options, TimeProvider clock)
    {
        if (!media.TryReadUrlToken(token, out var mediaId, out var expiresAt))
        {
            return TypedResults.NotFound();
        }

        if (GraphApiEndpoints.RefuseToken(context.Request, state, options) is { } refused)
        {
            media.Record(mediaId, MediaStage.Download, refused.Status, refused.Code, 0);
            return refused.Result;
        }

        if (clock.GetUtcNow() >= expiresAt || media.Find(mediaId) is not { } stored)
        {
            media.Record(mediaId, MediaStage.Download, StatusCodes.Status404NotFound, bytes: 0);
            return TypedResults.NotFound();
        }

        var failure = media.TakeFailure(mediaId, MediaStage.Download);
        if (failure?.DelaySeconds is { } delay)
        {
            await Task.Delay(TimeSpan.FromSeconds(delay), clock, CancellationToken.None);
        }

        if (failure is { HttpStatus: not StatusCodes.Status200OK })
        {
            media.Record(mediaId, MediaStage.Download, failure.HttpStatus, failure.Code, 0);
            return TypedResults.StatusCode(failure.HttpStatus);
        }

        var bytes = failure is { Corrupt: true } ? Corrupted(stored.Bytes) : stored.Bytes;
        var served = await ServeAsync(context.Response, stored.MimeType, bytes, context.RequestAborted);
        media.Record(mediaId, MediaStage.Download, StatusCodes.Status200OK, bytes: served);
        return TypedResults.Empty;
    }

    /// <returns>How many bytes went out before the caller hung up, if it did.</returns>
    private static async Task<long> ServeAsync(HttpResponse response, string mimeType, ReadOnlyMemory<byte> bytes, CancellationToken aborted)
    {
        response.ContentType = mimeType;
        response.ContentLength = bytes.Length;
        long served = 0;
        try
        {
            while (served < bytes.Length)
            {
                var chunk = bytes.Slice((int)served, Math.Min(DownloadChunkBytes, bytes.Length - (int)served));
                await response.Body.WriteAsync(chunk, aborted);
                served += chunk.Length;
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException && aborted.IsCancellationRequested)
        {
            // The caller hung up: what it got is recorded as a partial download.
        }

        return served;
    }

    /// <summary>Other bytes of the same length: every bit flipped, so that no byte matches.</summary>
    private static byte[] Corrupted(ReadOnlyMemory<byte> bytes)
    {
        var corrupted = bytes.ToArray();
        for (var i = 0; i < corrupted.Length; i++)
        {
            corrupted[i] ^= 0xFF;
        }

        return corrupted;
    }
}
