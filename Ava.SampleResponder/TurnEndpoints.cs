using System.Text.Json;
using Ava.Responder.Contracts;
using Microsoft.Extensions.Options;

namespace Ava.SampleResponder;

/// <summary>
/// <c>POST /turns</c>: Ava's turns, checked and answered as the contract in docs/responder.md says; <c>/control</c> and
/// <c>GET /turns</c> let tests set a user's behaviour and read what was sent.
/// </summary>
public static class TurnEndpoints
{
    public static IEndpointRouteBuilder MapTurns(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/turns", AnswerAsync);
        endpoints.MapGet("/turns", (Guid? userId, TurnLog log) => TypedResults.Ok(log.Calls(userId).ToList()));
        endpoints.MapPost("/control", (UserBehaviour behaviour, TurnLog log) =>
        {
            log.Behave(behaviour);
            return TypedResults.NoContent();
        });
        return endpoints;
    }

    internal static async Task<IResult> AnswerAsync(HttpRequest request, TurnLog log, IOptions<SampleResponderOptions> options, TimeProvider clock)
    {
        var startedAt = clock.GetUtcNow();
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        var body = buffer.ToArray();
        var key = request.Headers[TurnSignature.IdempotencyKeyHeaderName].ToString();
        var signed = TurnSignature.IsValid(request.Headers[TurnSignature.HeaderName], options.Value.Secret, body);

        Turn? turn = null;
        try
        {
            turn = signed ? JsonSerializer.Deserialize(body, ResponderJsonContext.Default.Turn) : null;
        }
        catch (JsonException)
        {
        }

        IResult result;
        int status;
        if (!signed)
        {
            (result, status) = (TypedResults.Unauthorized(), StatusCodes.Status401Unauthorized);
        }
        else if (turn is null)
        {
            (result, status) = (TypedResults.Problem("Not a turn.", statusCode: StatusCodes.Status400BadRequest), StatusCodes.Status400BadRequest);
        }
        else
        {
            var behaviour = log.BehaviourOf(turn.UserId);
            var delay = behaviour?.DelayMs is { } ms ? TimeSpan.FromMilliseconds(ms) : options.Value.Delay;
            await Task.Delay(delay, clock, request.HttpContext.RequestAborted);
            if (behaviour?.FailStatus is { } failStatus && log.TakeFailure(turn.UserId))
            {
                if (behaviour.RetryAfterSeconds is { } retryAfter)
                {
                    request.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                (result, status) = (TypedResults.Problem("Failing as asked.", statusCode: failStatus), failStatus);
            }
            else
            {
                var answer = log.AnswerOnce(key, () => Answer(turn, behaviour));
                (result, status) = (TypedResults.Json(answer, ResponderJsonContext.Default.TurnAnswer), StatusCodes.Status200OK);
            }
        }

        log.Record(new RecordedTurn(key, signed, turn, startedAt, clock.GetUtcNow(), status));
        return result;
    }

    /// <summary>What the sample says: each reply asked for with the message in it, or one reply about the message and the history.</summary>
    private static TurnAnswer Answer(Turn turn, UserBehaviour? behaviour)
    {
        var said = turn.Message.Text ?? turn.Message.Summary;
        var texts = behaviour?.Replies is { } replies
            ? replies.Select(r => r.Replace("{text}", said, StringComparison.Ordinal))
            : [$"You said: {said} ({turn.History.Count} earlier messages in this conversation)"];
        return new TurnAnswer([.. texts.Select(text => new TurnReply(TurnReply.TextType, text))]);
    }
}
