using System.Collections.Concurrent;
using System.Text.Json;
using Ava.WhatsApp.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Ava.WhatsAppSimulator;

/// <summary>A send the simulator accepted or refused, as a test or a developer sees it.</summary>
/// <param name="TraceParent">The W3C <c>traceparent</c> the sender propagated: which trace the send belongs to.</param>
public sealed record RecordedSend(
    string PhoneNumberId,
    string To,
    string? Body,
    string? Wamid,
    int HttpStatus,
    int? ErrorCode,
    DateTimeOffset At,
    string? TraceParent = null,
    string? CallbackData = null);

/// <summary>
/// Failures to answer instead of accepting, for the next <see cref="Count"/> sends (to one recipient, or any). An
/// <see cref="HttpStatus"/> of 200 accepts the send as usual, only after <see cref="DelaySeconds"/>: a slow Graph API;
/// or at once, answering only after <see cref="AnswerDelaySeconds"/>: an accepted send whose answer is late or lost.
/// </summary>
public sealed record InjectedFailure(
    int Count, int HttpStatus, int? Code, string? Title, string? To, int? RetryAfterSeconds = null, double? DelaySeconds = null, double? AnswerDelaySeconds = null);

/// <summary>What the simulated Graph API was sent and what it is told to answer.</summary>
public sealed class GraphApiState
{
    private readonly ConcurrentQueue<RecordedSend> _sends = new();
    private readonly List<InjectedFailure> _failures = [];

    public IReadOnlyList<RecordedSend> Sends => [.. _sends];

    public void Record(RecordedSend send) => _sends.Enqueue(send);

    public void Inject(InjectedFailure failure)
    {
        lock (_failures)
        {
            _failures.Add(failure);
        }
    }

    /// <summary>Takes one injected failure that applies to this recipient, if any is left.</summary>
    public InjectedFailure? TakeFailure(string to)
    {
        lock (_failures)
        {
            var index = _failures.FindIndex(f => f.To is null || f.To == to);
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
    public static IEndpointRouteBuilder MapGraphApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/{version}/{phoneNumberId}/messages", SendMessageAsync)
            .WithTags("Graph API (simulated)");
        return endpoints;
    }

    /// <summary>Answers like Meta: checks the token and the payload, then accepts with a new wamid.</summary>
    private static async Task<IResult> SendMessageAsync(
        string phoneNumberId,
        HttpRequest request,
        GraphApiState state,
        StatusReporter statuses,
        IOptions<SimulatorOptions> options,
        TimeProvider clock)
    {
        if (request.Headers.Authorization.ToString() != $"Bearer {options.Value.AccessToken}")
        {
            return GraphError(StatusCodes.Status401Unauthorized, 190, "Invalid OAuth access token - Cannot parse access token");
        }

        SendTextMessageRequest? message;
        try
        {
            message = await request.ReadFromJsonAsync(WhatsAppJsonContext.Default.SendTextMessageRequest);
        }
        catch (JsonException)
        {
            message = null;
        }

        if (message is not { MessagingProduct: "whatsapp", RecipientType: "individual", Type: "text", To.Length: > 0, Text.Body: { } body }
            || body.Length > SendTextMessageRequest.MaxBodyLength)
        {
            state.Record(new(phoneNumberId, message?.To ?? "", message?.Text?.Body, null, 400, 100, clock.GetUtcNow(), TraceParentOf(request)));
            return GraphError(StatusCodes.Status400BadRequest, 100, "(#100) Invalid parameter");
        }

        var failure = state.TakeFailure(message.To);
        if (failure?.DelaySeconds is { } delay)
        {
            // Meta is slow, not gone: the send is accepted even if the caller stopped waiting.
            await Task.Delay(TimeSpan.FromSeconds(delay), clock, CancellationToken.None);
        }

        if (failure is { HttpStatus: not StatusCodes.Status200OK })
        {
            state.Record(new(phoneNumberId, message.To, body, null, failure.HttpStatus, failure.Code, clock.GetUtcNow(), TraceParentOf(request)));
            if (failure.RetryAfterSeconds is { } retryAfter)
            {
                request.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return GraphError(failure.HttpStatus, failure.Code ?? 1, failure.Title ?? "Injected failure");
        }

        var wamid = $"wamid.SIM{Guid.NewGuid():N}";
        state.Record(new(phoneNumberId, message.To, body, wamid, 200, null, clock.GetUtcNow(), TraceParentOf(request), message.BizOpaqueCallbackData));
        if (options.Value.SendStatuses)
        {
            statuses.Report(phoneNumberId, wamid, message.To, message.BizOpaqueCallbackData);
        }

        if (failure?.AnswerDelaySeconds is { } answerDelay)
        {
            await Task.Delay(TimeSpan.FromSeconds(answerDelay), clock, CancellationToken.None);
        }

        return TypedResults.Json(
            new SendMessageResponse("whatsapp", [new SendMessageContact(message.To, message.To)], [new SentMessage(wamid)]),
            WhatsAppJsonContext.Default.SendMessageResponse);
    }

    private static string? TraceParentOf(HttpRequest request) =>
        request.Headers.TryGetValue("traceparent", out var traceParent) ? traceParent.ToString() : null;

    private static JsonHttpResult<GraphErrorResponse> GraphError(int status, int code, string message) => TypedResults.Json(
        new GraphErrorResponse(new GraphError(message, "OAuthException", code, null, null, "Simulated" + Guid.NewGuid().ToString("N")[..8])),
        WhatsAppJsonContext.Default.GraphErrorResponse,
        statusCode: status);
}
