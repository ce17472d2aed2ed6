using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Ava.WhatsApp.Contracts;
using Ava.WhatsApp.Testing;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Ava.WhatsAppSimulator;

/// <summary>A media message to deliver to Ava, of media uploaded to the simulator first.</summary>
/// <param name="From">The sender's phone; null plays a user who adopted a username (then <paramref name="UserId"/>).</param>
/// <param name="Type">image, audio, video, document or sticker.</param>
/// <param name="Voice">An audio recorded as a voice note.</param>
/// <param name="Animated">A sticker that moves.</param>
public sealed record MediaMessageToDeliver(
    string Type,
    string MediaId,
    string? From = null,
    string? Caption = null,
    string? Filename = null,
    bool? Voice = null,
    bool? Animated = null,
    string? UserId = null,
    string? PhoneNumberId = null);

/// <summary>
/// How tests and developers play a customer's media: upload it, deliver a message carrying it, make its lookups and
/// downloads fail or its id expire, and see what Ava asked for.
/// </summary>
internal static class MediaControlEndpoints
{
    /// <summary>Above Meta's largest media (a 100 MB document), so that any media Meta allows can be played.</summary>
    public const long MaxUploadBytes = 120L * 1024 * 1024;

    public static IEndpointRouteBuilder MapMediaControl(this IEndpointRouteBuilder endpoints)
    {
        var simulator = endpoints.MapGroup(SimulatorControlEndpoints.Prefix).WithTags("Simulator");

        simulator.MapPost("/media", UploadAsync)
            .WithMetadata(new RequestSizeLimitAttribute(MaxUploadBytes))
            .WithSummary("Keeps the body as a customer's media, of the Content-Type's mime type (?id= chooses its id): answers its id, mime_type, sha256 (base64) and file_size.");

        simulator.MapPost("/media/{id}/expire", (string id, MediaState media) =>
            media.Forget(id) ? Results.NoContent() : Results.NotFound())
            .WithSummary("Forgets the media id from now on, as Meta does 7 days after the message: lookups answer code 100, URLs 404.");

        simulator.MapPost("/media-failures", InjectFailureAsync)
            .WithSummary("Answers the next URL lookups or downloads of a media (or any) with an HTTP status and Meta error code, late, or with corrupted bytes.");

        simulator.MapGet(SimulatorControlEndpoints.MediaRequestsPath, (MediaState media, string? mediaId) => TypedResults.Json(
                (IReadOnlyList<RecordedMediaRequest>)[.. media.Requests.Where(r => mediaId is null || r.MediaId == mediaId)],
                SimulatorJsonContext.Default.IReadOnlyListRecordedMediaRequest))
            .WithSummary("Every URL lookup and download Ava made, optionally of one media.");

        simulator.MapPost("/media-messages", DeliverMediaAsync)
            .WithSummary("Delivers an image, audio, video, document or sticker message of uploaded media to Ava, as Meta would.");

        return endpoints;
    }

    private static async Task<IResult> UploadAsync(HttpRequest request, MediaState media, IOptions<SimulatorOptions> options, string? id, double? urlLifetimeSeconds)
    {
        if (request.ContentType is not { Length: > 0 } mimeType)
        {
            return Invalid("content-type", "The Content-Type header says the media's mime type.");
        }

        if (id is not null && (id.Length == 0 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || id == options.Value.PhoneNumberId))
        {
            return Invalid("id", "A media id is letters, digits, '-', '_' and '.', and not the business number's id (both are read on the same Graph route).");
        }

        if (urlLifetimeSeconds is <= 0)
        {
            return Invalid("urlLifetimeSeconds", "A URL lives for a positive number of seconds.");
        }

        byte[] bytes;
        try
        {
            using var buffer = new MemoryStream(request.ContentLength is { } length and <= MaxUploadBytes ? (int)length : 0);
            await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
            bytes = buffer.ToArray();
        }
        catch (BadHttpRequestException exception)
        {
            // Kestrel's refusal of a body over the limit; answered as such rather than as a failure of the simulator.
            return Results.Problem(exception.Message, statusCode: exception.StatusCode);
        }

        var stored = media.Store(id, mimeType, bytes, urlLifetimeSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null);
        return TypedResults.Json(stored.Describe(), SimulatorJsonContext.Default.UploadedMedia);
    }

    private static async Task<IResult> InjectFailureAsync(HttpRequest request, MediaState media)
    {
        if (await ReadAsync(request, SimulatorJsonContext.Default.MediaFailure) is not { } failure)
        {
            return Invalid("body", "Expected {\"media_id\", \"stage\": \"url\"|\"download\", \"count\", \"http_status\", \"code\", \"title\", \"delay_seconds\", \"corrupt\"}.");
        }

        if (failure.Count < 1 || failure.HttpStatus is < 200 or > 599 || failure.DelaySeconds is < 0)
        {
            return Invalid("body", "count is at least 1, http_status an HTTP status, delay_seconds not negative.");
        }

        if (failure is { Corrupt: true, Stage: not MediaStage.Download } or { Corrupt: true, HttpStatus: not StatusCodes.Status200OK })
        {
            return Invalid("corrupt", "Only a download that succeeds can serve corrupted bytes.");
        }

        media.Inject(failure);
        return Results.NoContent();
    }

    private static async Task<IResult> DeliverMediaAsync(
        HttpRequest request, MediaState media, WebhookDeliverer deliverer, GraphApiState state, IOptions<SimulatorOptions> options, TimeProvider clock)
    {
        if (await ReadAsync(request, SimulatorJsonContext.Default.MediaMessageToDeliver) is not { } message)
        {
            return Invalid("body", "Expected {\"from\", \"type\", \"media_id\", \"caption\"?, \"filename\"?, \"voice\"?}.");
        }

        if ((message.From ?? message.UserId) is not { Length: > 0 } writer)
        {
            return Invalid("from", "A message comes from a phone (from), a business-scoped user id (user_id), or both.");
        }

        if (!WebhookNotifications.MediaTypes.Contains(message.Type))
        {
            return Invalid("type", $"A media message is one of: {string.Join(", ", WebhookNotifications.MediaTypes)}.");
        }

        if (media.Find(message.MediaId) is not { } stored)
        {
            return Invalid("media_id", "Upload the media first (POST /simulator/media); this id names none, or has expired.");
        }

        var mediaObject = new WebhookMedia(stored.Id, stored.MimeType, stored.Sha256Base64, message.Caption, message.Filename, message.Voice, message.Animated);
        var result = await SimulatorControlEndpoints.DeliverMessageAsync(
            wamid => WebhookNotifications.Media(message.From, message.Type, mediaObject, wamid, clock.GetUtcNow(), message.UserId),
            writer,
            message.PhoneNumberId,
            change => change,
            deliverer,
            state,
            options);
        return TypedResults.Json(result, SimulatorJsonContext.Default.DeliveryResult);
    }

    /// <returns>The body, or null when it is not JSON of that shape.</returns>
    private static async Task<T?> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type)
    {
        try
        {
            return await request.ReadFromJsonAsync(type, request.HttpContext.RequestAborted);
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: the body is not JSON at all (no application/json content type).
            return default;
        }
    }

    private static IResult Invalid(string field, string error) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [error] });
}
