using System.Collections.Concurrent;

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
