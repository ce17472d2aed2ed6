using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using Ava.Responder.Contracts;

namespace Ava.SampleResponder;

/// <summary>How the responder treats one user's turns, set by tests through <c>POST /control</c>.</summary>
/// <param name="DelayMs">Thinking time instead of the configured delay.</param>
/// <param name="FailStatus">The status to answer instead of an answer (e.g. 503, 400) …</param>
/// <param name="FailTimes">… this many times (null: until told otherwise).</param>
/// <param name="RetryAfterSeconds">A <c>Retry-After</c> sent with the failures.</param>
/// <param name="Replies">The replies to answer with, <c>{text}</c> standing for the message; none: one echo-like reply.</param>
public sealed record UserBehaviour(
    [property: JsonPropertyName("user_id")] Guid? UserId,
    [property: JsonPropertyName("delay_ms")] int? DelayMs = null,
    [property: JsonPropertyName("fail_status")] int? FailStatus = null,
    [property: JsonPropertyName("fail_times")] int? FailTimes = null,
    [property: JsonPropertyName("retry_after_seconds")] int? RetryAfterSeconds = null,
    [property: JsonPropertyName("replies")] IReadOnlyList<string>? Replies = null);

/// <summary>One call Ava made, as received.</summary>
/// <param name="SignatureValid">Whether <c>X-Ava-Signature-256</c> matched the body.</param>
/// <param name="Status">What the responder answered.</param>
public sealed record RecordedTurn(
    [property: JsonPropertyName("idempotency_key")] string? IdempotencyKey,
    [property: JsonPropertyName("signature_valid")] bool SignatureValid,
    [property: JsonPropertyName("turn")] Turn? Turn,
    [property: JsonPropertyName("started_at")] DateTimeOffset StartedAt,
    [property: JsonPropertyName("finished_at")] DateTimeOffset FinishedAt,
    [property: JsonPropertyName("status")] int Status);

/// <summary>Every call Ava made (the latest ones), the behaviour asked for, and the answers given per turn.</summary>
public sealed class TurnLog
{
    private const int Kept = 10_000;

    private readonly ConcurrentQueue<RecordedTurn> _calls = new();
    private readonly ConcurrentDictionary<Guid, UserBehaviour> _behaviours = new();
    private readonly ConcurrentDictionary<Guid, int> _failuresLeft = new();
    private readonly ConcurrentDictionary<string, TurnAnswer> _answers = new(StringComparer.Ordinal);

    public void Record(RecordedTurn call)
    {
        _calls.Enqueue(call);
        while (_calls.Count > Kept && _calls.TryDequeue(out _))
        {
        }
    }

    public IEnumerable<RecordedTurn> Calls(Guid? userId) => _calls.Where(c => userId is null || c.Turn?.UserId == userId);

    public void Behave(UserBehaviour behaviour)
    {
        var userId = behaviour.UserId ?? Guid.Empty;
        _behaviours[userId] = behaviour;
        _failuresLeft[userId] = behaviour.FailTimes ?? int.MaxValue;
    }

    public UserBehaviour? BehaviourOf(Guid userId) =>
        _behaviours.TryGetValue(userId, out var own) ? own : _behaviours.GetValueOrDefault(Guid.Empty);

    /// <returns>Whether this call is to fail (and counts it).</returns>
    public bool TakeFailure(Guid userId)
    {
        var key = _behaviours.ContainsKey(userId) ? userId : Guid.Empty;
        while (_failuresLeft.TryGetValue(key, out var left) && left > 0)
        {
            if (_failuresLeft.TryUpdate(key, left == int.MaxValue ? left : left - 1, left))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A responder answers a turn asked again (same idempotency key) as it did the first time.</summary>
    public TurnAnswer AnswerOnce(string key, Func<TurnAnswer> answer) => _answers.GetOrAdd(key, _ => answer());
}
