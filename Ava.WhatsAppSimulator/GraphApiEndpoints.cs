using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Ava.WhatsApp.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Ava.WhatsAppSimulator;

/// <summary>Whether the simulated Graph API accepts Ava's access token (false: it has expired, as Meta answers with 190).</summary>
public sealed record TokenValidity(bool Valid);

internal static class GraphApiEndpoints
{
    /// <summary>Graph API versions look like v25.0; the constraint keeps the simulator's own pages out of these routes.</summary>
    private const string Version = "{version:regex(^v\\d+\\.\\d+$)}";

    /// <summary>Meta's "invalid parameter", also answered for an object it does not know.</summary>
    internal const int UnknownObjectCode = 100;

    public static IEndpointRouteBuilder MapGraphApi(this IEndpointRouteBuilder endpoints)
    {
        var graph = endpoints.MapGroup("").WithTags("Graph API (simulated)");
        graph.MapPost($"/{Version}/{{phoneNumberId}}/messages", PostMessagesAsync);
        graph.MapGet($"/{Version}/{{id}}", ReadObjectAsync);
        graph.MapGet($"{MediaEndpoints.DownloadPath}/{{token}}", MediaEndpoints.DownloadAsync);
        return endpoints;
    }

    /// <summary>A send or a read receipt: Meta takes both on the same endpoint, told apart by the body.</summary>
    private static async Task<IResult> PostMessagesAsync(
        string phoneNumberId,
        HttpRequest request,
        GraphApiState state,
        StatusReporter statuses,
        IOptions<SimulatorOptions> options,
        TimeProvider clock)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        var body = buffer.ToArray();

        return Parse(body, WhatsAppJsonContext.Default.MarkReadRequest) is { Status: not null } read
            ? MarkRead(phoneNumberId, read, request, state, options, clock)
            : await SendMessageAsync(phoneNumberId, Parse(body, WhatsAppJsonContext.Default.SendTextMessageRequest), request, state, statuses, options, clock);
    }

    /// <summary>
    /// Answers like Meta: checks the token and the payload, then accepts with a new wamid. A message goes to the phone
    /// in <c>to</c>, else to the business-scoped user id in <c>recipient</c>.
    /// </summary>
    private static async Task<IResult> SendMessageAsync(
        string phoneNumberId,
        SendTextMessageRequest? message,
        HttpRequest request,
        GraphApiState state,
        StatusReporter statuses,
        IOptions<SimulatorOptions> options,
        TimeProvider clock)
    {
        var addressedAs = message?.To is not null ? RecordedSend.Phone : message?.Recipient is not null ? RecordedSend.UserId : null;
        if (RefuseToken(request, state, options) is { } refused)
        {
            state.Record(new(
                phoneNumberId, message?.Addressee ?? "", message?.Text?.Body, null, refused.Status, refused.Code, clock.GetUtcNow(), TraceParentOf(request),
                AddressedAs: addressedAs));
            return refused.Result;
        }

        if (message is not { MessagingProduct: "whatsapp", RecipientType: "individual", Type: "text", Addressee.Length: > 0, Text.Body: { } body }
            || body.Length > SendTextMessageRequest.MaxBodyLength)
        {
            state.Record(new(
                phoneNumberId, message?.Addressee ?? "", message?.Text?.Body, null, 400, 100, clock.GetUtcNow(), TraceParentOf(request),
                AddressedAs: addressedAs));
            return GraphError(StatusCodes.Status400BadRequest, 100, "(#100) Invalid parameter");
        }

        var to = message.Addressee;
        var toUserId = message.To is null;
        var failure = state.TakeFailure(to);
        if (failure?.DelaySeconds is { } delay)
        {
            // Meta is slow, not gone: the send is accepted even if the caller stopped waiting.
            await Task.Delay(TimeSpan.FromSeconds(delay), clock, CancellationToken.None);
        }

        if (failure is { HttpStatus: not StatusCodes.Status200OK })
        {
            state.Record(new(phoneNumberId, to, body, null, failure.HttpStatus, failure.Code, clock.GetUtcNow(), TraceParentOf(request), AddressedAs: addressedAs));
            if (failure.RetryAfterSeconds is { } retryAfter)
            {
                request.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return GraphError(failure.HttpStatus, failure.Code ?? 1, failure.Title ?? "Injected failure");
        }

        var wamid = $"wamid.SIM{Guid.NewGuid():N}";
        state.Record(new(phoneNumberId, to, body, wamid, 200, null, clock.GetUtcNow(), TraceParentOf(request), message.BizOpaqueCallbackData, addressedAs));
        if (options.Value.SendStatuses)
        {
            statuses.Report(phoneNumberId, wamid, to, toUserId, message.BizOpaqueCallbackData);
        }

        if (failure?.AnswerDelaySeconds is { } answerDelay)
        {
            await Task.Delay(TimeSpan.FromSeconds(answerDelay), clock, CancellationToken.None);
        }

        return TypedResults.Json(
            new SendMessageResponse(
                "whatsapp", [toUserId ? new SendMessageContact(to, null, to) : new SendMessageContact(to, to)], [new SentMessage(wamid)]),
            WhatsAppJsonContext.Default.SendMessageResponse);
    }

    /// <summary>Marks a message read (and shows the typing indicator) as Meta does: answers <c>{"success":true}</c>.</summary>
    private static IResult MarkRead(
        string phoneNumberId, MarkReadRequest read, HttpRequest request, GraphApiState state, IOptions<SimulatorOptions> options, TimeProvider clock)
    {
        var typing = read.TypingIndicator is not null;
        var writer = read.MessageId is { } messageId ? state.WriterOf(messageId) : null;
        void Record(int status, int? code) =>
            state.RecordRead(new RecordedRead(phoneNumberId, read.MessageId ?? "", typing, writer, status, code, clock.GetUtcNow()));

        if (RefuseToken(request, state, options) is { } refused)
        {
            Record(refused.Status, refused.Code);
            return refused.Result;
        }

        if (read is not { MessagingProduct: "whatsapp", Status: MarkReadRequest.ReadStatus, MessageId.Length: > 0 }
            || read.TypingIndicator is { Type: not "text" })
        {
            Record(StatusCodes.Status400BadRequest, 100);
            return GraphError(StatusCodes.Status400BadRequest, 100, "(#100) Invalid parameter");
        }

        if (state.TakeReadReceiptFailure(read.MessageId) is { } failure)
        {
            Record(failure.HttpStatus, failure.Code);
            return GraphError(failure.HttpStatus, failure.Code ?? 1, failure.Title ?? "Injected failure");
        }

        Record(StatusCodes.Status200OK, null);
        return TypedResults.Json(new GraphSuccessResponse(true), WhatsAppJsonContext.Default.GraphSuccessResponse);
    }

    /// <summary>
    /// Meta reads any object by its id on the same route: a customer's media id answers where to download the media,
    /// the business number describes itself.
    /// </summary>
    private static async Task<IResult> ReadObjectAsync(
        string id, HttpRequest request, GraphApiState state, MediaState media, IOptions<SimulatorOptions> options, TimeProvider clock) =>
        media.IsMediaId(id)
            ? await MediaEndpoints.LookUpUrlAsync(id, request, state, media, options, clock)
            : ReadPhoneNumber(id, request, state, options);

    /// <summary>Ava's number, as Meta describes it to a token allowed to use it: how Ava checks its token.</summary>
    private static IResult ReadPhoneNumber(string phoneNumberId, HttpRequest request, GraphApiState state, IOptions<SimulatorOptions> options)
    {
        if (RefuseToken(request, state, options) is { } refused)
        {
            return refused.Result;
        }

        return phoneNumberId == options.Value.PhoneNumberId
            ? TypedResults.Json(new BusinessPhoneNumber(phoneNumberId, "+1 555-000-0000", "Ava (simulated)"), WhatsAppJsonContext.Default.BusinessPhoneNumber)
            : UnknownObject(phoneNumberId);
    }

    /// <summary>What Meta answers for an id it does not know (or no longer knows, as a media id after 7 days).</summary>
    internal static JsonHttpResult<GraphErrorResponse> UnknownObject(string id) => GraphError(
        StatusCodes.Status400BadRequest,
        UnknownObjectCode,
        $"Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
        subcode: 33);

    /// <returns>Meta's refusal when the bearer token is not Ava's, or has "expired"; null when it is accepted.</returns>
    internal static (int Status, int Code, IResult Result)? RefuseToken(HttpRequest request, GraphApiState state, IOptions<SimulatorOptions> options)
    {
        if (request.Headers.Authorization.ToString() != $"Bearer {options.Value.AccessToken}")
        {
            return (StatusCodes.Status401Unauthorized, 190,
                GraphError(StatusCodes.Status401Unauthorized, 190, "Invalid OAuth access token - Cannot parse access token"));
        }

        return state.TokenValid
            ? null
            : (StatusCodes.Status401Unauthorized, 190,
                GraphError(StatusCodes.Status401Unauthorized, 190, "Error validating access token: Session has expired.", subcode: 463));
    }

    private static T? Parse<T>(byte[] body, JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(body, type);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    private static string? TraceParentOf(HttpRequest request) =>
        request.Headers.TryGetValue("traceparent", out var traceParent) ? traceParent.ToString() : null;

    internal static JsonHttpResult<GraphErrorResponse> GraphError(int status, int code, string message, int? subcode = null) => TypedResults.Json(
        new GraphErrorResponse(new GraphError(message, "OAuthException", code, subcode, null, "Simulated" + Guid.NewGuid().ToString("N")[..8])),
        WhatsAppJsonContext.Default.GraphErrorResponse,
        statusCode: status);
}
