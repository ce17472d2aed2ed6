using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Ava.WhatsApp.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Ava.WhatsAppSimulator;

/// <summary>A send the simulator accepted or refused, as a test or a developer sees it.</summary>
/// <param name="To">Whom it was addressed to: a phone, or a business-scoped user id.</param>
/// <param name="TraceParent">The W3C <c>traceparent</c> the sender propagated: which trace the send belongs to.</param>
/// <param name="AddressedAs">The field that named the recipient: <c>to</c> (a phone) or <c>recipient</c> (a user id).</param>
public sealed record RecordedSend(
    string PhoneNumberId,
    string To,
    string? Body,
    string? Wamid,
    int HttpStatus,
    int? ErrorCode,
    DateTimeOffset At,
    string? TraceParent = null,
    string? CallbackData = null,
    string? AddressedAs = null)
{
    public const string Phone = "to";

    public const string UserId = "recipient";
}

/// <summary>A read receipt Ava sent for a message it received, as a test or a developer sees it.</summary>
/// <param name="MessageId">The wamid of the message marked read.</param>
/// <param name="Typing">Whether it asked for the typing indicator too.</param>
/// <param name="From">Who wrote that message, when the simulator delivered it (null for messages it does not know).</param>
public sealed record RecordedRead(
    string PhoneNumberId, string MessageId, bool Typing, string? From, int HttpStatus, int? ErrorCode, DateTimeOffset At);

/// <summary>
/// Failures to answer instead of accepting, for the next <see cref="Count"/> sends (to one recipient, or any). An
/// <see cref="HttpStatus"/> of 200 accepts the send as usual, only after <see cref="DelaySeconds"/>: a slow Graph API;
/// or at once, answering only after <see cref="AnswerDelaySeconds"/>: an accepted send whose answer is late or lost.
/// With <see cref="ReadReceipts"/> they answer the next read receipts instead of sends, of the message whose wamid
/// <see cref="To"/> names, or of any.
/// </summary>
public sealed record InjectedFailure(
    int Count,
    int HttpStatus,
    int? Code,
    string? Title,
    string? To,
    int? RetryAfterSeconds = null,
    double? DelaySeconds = null,
    double? AnswerDelaySeconds = null,
    bool ReadReceipts = false);

/// <summary>Whether the simulated Graph API accepts Ava's access token (false: it has expired, as Meta answers with 190).</summary>
public sealed record TokenValidity(bool Valid);

/// <summary>What the simulated Graph API was sent and what it is told to answer.</summary>
public sealed class GraphApiState
{
    private readonly ConcurrentQueue<RecordedSend> _sends = new();
    private readonly ConcurrentQueue<RecordedRead> _reads = new();
    private readonly ConcurrentDictionary<string, string> _writers = new(StringComparer.Ordinal);
    private readonly List<InjectedFailure> _failures = [];
    private volatile bool _tokenValid = true;

    public IReadOnlyList<RecordedSend> Sends => [.. _sends];

    public IReadOnlyList<RecordedRead> Reads => [.. _reads];

    /// <summary>Whether the access token is accepted; false plays a token that expired (Meta's code 190).</summary>
    public bool TokenValid
    {
        get => _tokenValid;
        set => _tokenValid = value;
    }

    public void Record(RecordedSend send) => _sends.Enqueue(send);

    public void RecordRead(RecordedRead read) => _reads.Enqueue(read);

    /// <summary>Remembers who wrote a message the simulator delivered, so that its read receipt can be shown in that chat.</summary>
    public void RememberWriter(string wamid, string from) => _writers[wamid] = from;

    public string? WriterOf(string wamid) => _writers.GetValueOrDefault(wamid);

    public void Inject(InjectedFailure failure)
    {
        lock (_failures)
        {
            _failures.Add(failure);
        }
    }

    /// <summary>Takes one injected failure that applies to a send to this recipient, if any is left.</summary>
    public InjectedFailure? TakeFailure(string to) => Take(f => !f.ReadReceipts && (f.To is null || f.To == to));

    /// <summary>Takes one injected failure that applies to a read receipt of this message, if any is left.</summary>
    public InjectedFailure? TakeReadReceiptFailure(string messageId) => Take(f => f.ReadReceipts && (f.To is null || f.To == messageId));

    private InjectedFailure? Take(Predicate<InjectedFailure> applies)
    {
        lock (_failures)
        {
            var index = _failures.FindIndex(applies);
            if (index < 0)
            {
                return null;
            }

            var failure = _failures[index];
            if (failure.Count <= 1)
            {
                _failures.RemoveAt(index);
            }
            else
            {
                _failures[index] = failure with { Count = failure.Count - 1 };
            }

            return failure;
        }
    }
}

internal static class GraphApiEndpoints
{
    /// <summary>Graph API versions look like v25.0; the constraint keeps the simulator's own pages out of these routes.</summary>
    private const string Version = "{version:regex(^v\\d+\\.\\d+$)}";

    public static IEndpointRouteBuilder MapGraphApi(this IEndpointRouteBuilder endpoints)
    {
        var graph = endpoints.MapGroup("").WithTags("Graph API (simulated)");
        graph.MapPost($"/{Version}/{{phoneNumberId}}/messages", PostMessagesAsync);
        graph.MapGet($"/{Version}/{{phoneNumberId}}", ReadPhoneNumber);
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

    /// <summary>Ava's number, as Meta describes it to a token allowed to use it: how Ava checks its token.</summary>
    private static IResult ReadPhoneNumber(string phoneNumberId, HttpRequest request, GraphApiState state, IOptions<SimulatorOptions> options)
    {
        if (RefuseToken(request, state, options) is { } refused)
        {
            return refused.Result;
        }

        return phoneNumberId == options.Value.PhoneNumberId
            ? TypedResults.Json(new BusinessPhoneNumber(phoneNumberId, "+1 555-000-0000", "Ava (simulated)"), WhatsAppJsonContext.Default.BusinessPhoneNumber)
            : GraphError(
                StatusCodes.Status400BadRequest,
                100,
                $"Unsupported get request. Object with ID '{phoneNumberId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
                subcode: 33);
    }

    /// <returns>Meta's refusal when the bearer token is not Ava's, or has "expired"; null when it is accepted.</returns>
    private static (int Status, int Code, IResult Result)? RefuseToken(HttpRequest request, GraphApiState state, IOptions<SimulatorOptions> options)
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

    private static JsonHttpResult<GraphErrorResponse> GraphError(int status, int code, string message, int? subcode = null) => TypedResults.Json(
        new GraphErrorResponse(new GraphError(message, "OAuthException", code, subcode, null, "Simulated" + Guid.NewGuid().ToString("N")[..8])),
        WhatsAppJsonContext.Default.GraphErrorResponse,
        statusCode: status);
}
