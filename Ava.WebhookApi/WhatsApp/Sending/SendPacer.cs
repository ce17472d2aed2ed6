using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>
/// Keeps each business number within Meta's throughput (80 messages/s by default, per number; see
/// <see cref="WhatsAppProcessingOptions.RateOf"/>), shared among the instances that send
/// (<see cref="SenderPresence"/>): a generic cell rate algorithm per number, allowing a tenth of a second's burst.
/// When Meta asks a number to slow down, that number pauses; the others go on.
/// </summary>
/// <param name="activeSenders">How many instances share each number's rate (see <see cref="SenderPresence"/>).</param>
internal sealed class SendPacer(TimeProvider clock, Func<int> activeSenders, IOptions<WhatsAppProcessingOptions> options)
{
    private readonly ConcurrentDictionary<string, NumberPace> _numbers = new(StringComparer.Ordinal);

    /// <summary>Times are counted in seconds from here, small enough for a double to keep sub-millisecond precision.</summary>
    private readonly long _origin = clock.GetTimestamp();

    /// <summary>Numbers with a second's worth of replies already waiting here: claiming more for them only queues.</summary>
    public IReadOnlyCollection<string> SaturatedNumbers() =>
        [.. _numbers.Where(n => n.Value.Waiting >= RateHere(n.Key)).Select(n => n.Key)];

    /// <summary>Waits until the number may send its next message.</summary>
    public async Task WaitTurnAsync(string phoneNumberId, CancellationToken cancellationToken)
    {
        var pace = _numbers.GetOrAdd(phoneNumberId, _ => new NumberPace());
        Interlocked.Increment(ref pace.Waiting);
        try
        {
            var wait = pace.Reserve(Seconds(clock.GetTimestamp()), RateHere(phoneNumberId));
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(wait), clock, cancellationToken);
            }
        }
        finally
        {
            Interlocked.Decrement(ref pace.Waiting);
        }
    }

    /// <summary>Meta asked the number to slow down: it sends nothing more here for <paramref name="duration"/>.</summary>
    public void Pause(string phoneNumberId, TimeSpan duration) =>
        _numbers.GetOrAdd(phoneNumberId, _ => new NumberPace()).PauseUntil(Seconds(clock.GetTimestamp()) + duration.TotalSeconds);

    private double RateHere(string phoneNumberId) => Math.Max(1.0, (double)options.Value.RateOf(phoneNumberId) / Math.Max(1, activeSenders()));

    private double Seconds(long timestamp) => (double)(timestamp - _origin) / clock.TimestampFrequency;

    private sealed class NumberPace
    {
        private readonly Lock _lock = new();

        /// <summary>When the number's next message would be due if it sent evenly (the "theoretical arrival time").</summary>
        private double _due = double.MinValue;

        public int Waiting;

        /// <returns>Seconds to wait before sending.</returns>
        public double Reserve(double now, double rate)
        {
            var interval = 1 / rate;
            var burst = Math.Max(1, Math.Floor(rate / 10)) * interval;
            lock (_lock)
            {
                var sendAt = Math.Max(now, _due - burst);
                _due = Math.Max(_due, sendAt) + interval;
                return sendAt - now;
            }
        }

        public void PauseUntil(double until)
        {
            lock (_lock)
            {
                _due = Math.Max(_due, until);
            }
        }
    }
}
