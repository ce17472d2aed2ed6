using Ava.Data.Media;
using Ava.MessagesApi.Data;
using Ava.MessagesApi.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Ava.MessagesApi.Media;

/// <summary>
/// The bytes of a message's media, streamed to its owner from the chunks the webhook kept: ranges for players that
/// seek, the SHA-256 as the ETag for caches that ask again. Whose media it is, is row-level security's to say as well
/// as the query's: another user's message is as unknown as a message that never was.
/// </summary>
internal static partial class MediaEndpoints
{
    /// <summary>
    /// A media response never runs as a page of the API's origin, whatever type its sender gave it. The service's
    /// headers set their own policy on every response that is not HTML; this one stands for HTML.
    /// </summary>
    private const string ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; sandbox";

    public static IEndpointRouteBuilder MapMedia(this IEndpointRouteBuilder endpoints)
    {
        var messages = endpoints.MapGroup("/messages")
            .WithTags("Messages")
            .RequireAuthorization(IdentityExtensions.AvaUserPolicy);

        messages.MapGet("/{id}/media", GetMediaAsync)
            .WithSummary("The bytes of a message's media: a photo, voice note, video, document or sticker.")
            .WithDescription(
                "id: the message's id (its `media.id` in the history). To the message's owner only: another user's message, an "
                + "unknown id and a message without media are all 404. Media whose bytes are not kept is 409 with its `media_status` "
                + "(`pending` may still become `stored`; `failed` and `too_large` will not). The `ETag` is the bytes' SHA-256 in "
                + "lowercase hex, quoted: the `sha256` of the history's `media`, which is Meta's own (its webhooks give it in base64). "
                + "`If-None-Match` with it answers 304; `Range: bytes=…` answers 206, for players that seek. Documents come as "
                + "attachments named as their sender named them.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .AddOpenApiOperationTransformer(MediaDocumentation.DescribeBytes);

        return endpoints;
    }

    internal static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> GetMediaAsync(
        string id,
        HttpContext http,
        UserDataBatches userData,
        CurrentUser user,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var userId = user.Id;
        if (!Guid.TryParse(id, out var messageId) || await KeptMedia.FindAsync(userData, userId, messageId, cancellationToken) is not { } media)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "No such media",
                detail: "You have no message of this id that carries media.");
        }

        if (media.Status != MediaStatus.Stored)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "The media's bytes are not kept",
                detail: media.Status == MediaStatus.Pending
                    ? "Ava has not fetched the media from WhatsApp yet; ask again later."
                    : "Ava could not keep the media's bytes; only what WhatsApp said of it is known.",
                extensions: new Dictionary<string, object?> { ["media_status"] = media.Status });
        }

        if (!media.ChunksWhole || media.Size is not { } size || media.ChunkSize is not { } chunkSize)
        {
            LogChunksNotWhole(loggers.CreateLogger(typeof(MediaEndpoints)), media.Id, media.Size, media.ChunkSize);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "The media's bytes are unavailable",
                detail: "The kept bytes do not add up to the media's size. This has been logged.");
        }

        var stream = new MediaChunkStream(userData, userId, media.Id, size, chunkSize);

        // The result disposes the stream when it sends bytes, not when it answers 304 or 416.
        http.Response.RegisterForDispose(stream);
        http.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        http.Response.Headers.CacheControl = "private";

        string? downloadName = null;
        if (media.Type == "document")
        {
            downloadName = AttachmentName(media.FileName);
            if (downloadName is null)
            {
                http.Response.Headers.ContentDisposition = "attachment";
            }
        }

        return TypedResults.Stream(
            stream,
            media.MimeType ?? "application/octet-stream",
            downloadName,
            media.StoredAt,
            media.Sha256 is { } sha256 ? new EntityTagHeaderValue($"\"{sha256}\"") : null,
            enableRangeProcessing: true);
    }

    /// <summary>
    /// The sender's file name without what a header cannot carry (control characters) or a browser should not be
    /// given (a path): the header encodes the rest, non-ASCII included.
    /// </summary>
    private static string? AttachmentName(string? fileName)
    {
        if (string.IsNullOrWhiteSpace(fileName))
        {
            return null;
        }

        var name = string.Create(fileName.Length, fileName, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) || source[i] is '/' or '\\' ? '_' : source[i];
            }
        });
        return name.Trim();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Media {MediaId} is stored, but its chunks do not add up to its size {Size} in chunks of {ChunkSize}; answered 503")]
    private static partial void LogChunksNotWhole(ILogger logger, long mediaId, long? size, int? chunkSize);
}
