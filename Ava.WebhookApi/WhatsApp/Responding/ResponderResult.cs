using System.Net;
using System.Text.Json;
using Ava.Responder.Contracts;

namespace Ava.WebhookApi.WhatsApp.Responding;

/// <summary>How a call of the responder ended.</summary>
internal enum ResponderOutcome
{
    /// <summary>It answered: the replies (perhaps none) go to the user in order.</summary>
    Answered,

    /// <summary>No answer this time (timeout, connection error, 408, 429, 5xx): asked again later.</summary>
    Transient,

    /// <summary>It refused the turn (any other status) or answered what Ava cannot read: the turn ends with the fallback.</summary>
    Refused,
}

/// <param name="Replies">The texts to send, in order (answered only).</param>
/// <param name="RetryAfter">How long the responder asked Ava to wait (429, 503 with <c>Retry-After</c>).</param>
/// <param name="Error">What went wrong, for logs and the turn's record.</param>
/// <param name="Skipped">Replies of a type Ava does not send, left out.</param>
internal sealed record ResponderResult(
    ResponderOutcome Outcome, IReadOnlyList<string> Replies, TimeSpan? RetryAfter = null, string? Error = null, int Skipped = 0)
{
    public static ResponderResult Transient(string error, TimeSpan? retryAfter = null) => new(ResponderOutcome.Transient, [], retryAfter, error);

    /// <summary>
    /// Reads the responder's HTTP answer: 2xx with a readable body is an answer; 408, 429 and 5xx are worth asking
    /// again; any other status is a refusal.
    /// </summary>
    public static ResponderResult FromResponse(HttpStatusCode status, TimeSpan? retryAfter, ReadOnlySpan<byte> body)
    {
        var code = (int)status;
        if (code is 408 or 429 or >= 500)
        {
            return Transient($"responder answered {code}", retryAfter);
        }

        if (code is < 200 or >= 300)
        {
            return new ResponderResult(ResponderOutcome.Refused, [], Error: $"responder answered {code}");
        }

        TurnAnswer? answer;
        try
        {
            answer = body.IsEmpty ? new TurnAnswer([]) : JsonSerializer.Deserialize(body, ResponderJsonContext.Default.TurnAnswer);
        }
        catch (JsonException exception)
        {
            return new ResponderResult(ResponderOutcome.Refused, [], Error: $"responder answered {code} with a body that is not an answer: {exception.Message}");
        }

        var replies = answer?.Replies ?? [];
        var texts = replies
            .Select(r => r is { Type: TurnReply.TextType, Text: { Length: > 0 } text } ? text : null)
            .OfType<string>()
            .ToList();
        return new ResponderResult(ResponderOutcome.Answered, texts, Skipped: replies.Count - texts.Count);
    }
}
