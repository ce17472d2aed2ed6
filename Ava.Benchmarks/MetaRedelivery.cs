using System.Diagnostics;

namespace Ava.Benchmarks;

/// <summary>
/// Meta's side of a delivery that got no 2xx (a 503, a dead instance, a timeout): Meta sends it again, for up to
/// 7 days, less and less often. Here each refused delivery is sent again after a short delay, doubled after each
/// failure up to a cap, until it is acknowledged — Meta's own schedule is slower, but what the fault tests need to
/// know is that a retry is accepted and then answered, not how long Meta waits.
/// </summary>
public sealed class MetaRedelivery(HttpClient client, WebhookDeliveries deliveries, SequenceLog acknowledged, int concurrency = 32)
{
    private static readonly TimeSpan s_firstDelay = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_maxDelay = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _slots = new(concurrency);
    private readonly CancellationTokenSource _stopping = new();
    private long _outstanding;
    private long _attempts;
    private long _refusedAgain;
    private long _redelivered;

    /// <summary>Deliveries refused and not yet acknowledged on a retry.</summary>
    public long Outstanding => Interlocked.Read(ref _outstanding);

    /// <summary>Retries sent.</summary>
    public long Attempts => Interlocked.Read(ref _attempts);

    /// <summary>Retries that got no 2xx either (and were retried again).</summary>
    public long RefusedAgain => Interlocked.Read(ref _refusedAgain);

    /// <summary>Deliveries acknowledged on a retry.</summary>
    public long Redelivered => Interlocked.Read(ref _redelivered);

    /// <summary>Benchmark message <paramref name="number"/>'s delivery got no 2xx: it will be sent again.</summary>
    public void Refused(long number)
    {
        Interlocked.Increment(ref _outstanding);
        _ = RetryAsync(number);
    }

    /// <summary>Gives up on whatever is still outstanding (Meta would go on for days).</summary>
    public Task StopAsync() => _stopping.CancelAsync();

    private async Task RetryAsync(long number)
    {
        var delay = s_firstDelay;
        try
        {
            while (true)
            {
                await Task.Delay(delay, _stopping.Token);
                await _slots.WaitAsync(_stopping.Token);
                try
                {
                    Interlocked.Increment(ref _attempts);
                    using var request = deliveries.Create(number);
                    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, _stopping.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        acknowledged.Record(number, Stopwatch.GetTimestamp());
                        Interlocked.Increment(ref _redelivered);
                        Interlocked.Decrement(ref _outstanding);
                        return;
                    }
                }
                catch (Exception exception) when (exception is HttpRequestException or IOException
                    || (exception is TaskCanceledException && !_stopping.IsCancellationRequested))
                {
                }
                finally
                {
                    _slots.Release();
                }

                Interlocked.Increment(ref _refusedAgain);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, s_maxDelay.Ticks));
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }
}
