using System.Diagnostics;

namespace Ava.Benchmarks;

/// <summary>What one run of the load generator saw, counted over the measurement window (after the warm-up).</summary>
public sealed class LoadResult
{
    public required TimeSpan Window { get; init; }

    /// <summary>Open loop: requests due in the window; closed loop: requests started in it.</summary>
    public required long Offered { get; init; }

    public required long Succeeded { get; init; }

    public required long NonSuccess { get; init; }

    public required long Errors { get; init; }

    /// <summary>Open loop: requests due in the window that never left because every connection was busy until its end.</summary>
    public required long NotSent { get; init; }

    /// <summary>Of the 2xx answers, from the time the request was due (open loop) or started (closed loop).</summary>
    public required Latencies LatencyMs { get; init; }

    /// <summary>Stopwatch timestamps: the window, and when the last request in flight came back.</summary>
    public required long WindowStart { get; init; }

    public required long WindowEnd { get; init; }

    public required long Quiet { get; init; }

    public string? FirstError { get; init; }

    public double OfferedPerSecond => Offered / Window.TotalSeconds;

    public double SucceededPerSecond => Succeeded / Window.TotalSeconds;
}

/// <summary>
/// Sends HTTP requests at a fixed rate (open loop) or back to back (closed loop), with at most
/// <c>connections</c> in flight. In the open loop each request has a due time and its latency counts from then,
/// not from when it could finally leave: when the service falls behind, the waiting shows in the latencies instead
/// of silently lowering the offered load (no coordinated omission).
/// </summary>
/// <param name="createRequest">Builds request number n (numbers are unique within a run, warm-up included).</param>
/// <param name="onSuccess">Told of every 2xx answer, warm-up included: request number and Stopwatch timestamp.</param>
public sealed class HttpLoadGenerator(
    HttpClient client,
    int connections,
    Func<long, HttpRequestMessage> createRequest,
    Action<long, long>? onSuccess = null)
{
    private readonly LatencySamples _latencies = new();
    private long _succeeded;
    private long _nonSuccess;
    private long _errors;
    private string? _firstError;

    public async Task<LoadResult> RunOpenLoopAsync(double ratePerSecond, TimeSpan warmup, TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        var start = Stopwatch.GetTimestamp();
        var windowStart = start + Ticks(warmup);
        var windowEnd = windowStart + Ticks(duration);
        var interval = Stopwatch.Frequency / ratePerSecond;
        using var slots = new SemaphoreSlim(connections);

        long next = 0;
        while (true)
        {
            var due = start + (long)(next * interval);
            if (due >= windowEnd)
            {
                break;
            }

            var wait = due - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                // Timers tick in milliseconds (a shorter delay would not wait at all): whatever fell due meanwhile
                // goes out together after the wake-up, each still timed from its own due time.
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, Stopwatch.GetElapsedTime(0, wait).TotalMilliseconds)));
            }

            var untilEnd = windowEnd - Stopwatch.GetTimestamp();
            if (untilEnd <= 0 || !await slots.WaitAsync(Stopwatch.GetElapsedTime(0, untilEnd)))
            {
                break;
            }

            _ = SendAsync(next, due, counted: due >= windowStart, slots);
            next++;
        }

        var dueBeforeWindow = (long)Math.Ceiling((windowStart - start) / interval);
        var dueInTotal = (long)Math.Ceiling((windowEnd - start) / interval);
        var quiet = await WaitForInFlightAsync(slots);
        return Result(duration, dueInTotal - dueBeforeWindow, dueInTotal - next, windowStart, windowEnd, quiet);
    }

    public async Task<LoadResult> RunClosedLoopAsync(TimeSpan warmup, TimeSpan duration)
    {
        var windowStart = Stopwatch.GetTimestamp() + Ticks(warmup);
        var windowEnd = windowStart + Ticks(duration);
        long next = -1;
        long started = 0;
        using var slots = new SemaphoreSlim(connections);

        async Task Worker()
        {
            while (true)
            {
                var now = Stopwatch.GetTimestamp();
                if (now >= windowEnd)
                {
                    return;
                }

                var counted = now >= windowStart;
                if (counted)
                {
                    Interlocked.Increment(ref started);
                }

                await slots.WaitAsync();
                await SendAsync(Interlocked.Increment(ref next), now, counted, slots);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(Worker)));
        return Result(duration, started, 0, windowStart, windowEnd, Stopwatch.GetTimestamp());
    }

    private async Task SendAsync(long number, long due, bool counted, SemaphoreSlim slots)
    {
        try
        {
            using var request = createRequest(number);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
            var answeredAt = Stopwatch.GetTimestamp();
            if (response.IsSuccessStatusCode)
            {
                onSuccess?.Invoke(number, answeredAt);
                if (counted)
                {
                    Interlocked.Increment(ref _succeeded);
                    _latencies.Add(Stopwatch.GetElapsedTime(due, answeredAt).TotalMilliseconds);
                }
            }
            else if (counted)
            {
                Interlocked.Increment(ref _nonSuccess);
                Interlocked.CompareExchange(ref _firstError, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}", null);
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or IOException)
        {
            if (counted)
            {
                Interlocked.Increment(ref _errors);
            }

            Interlocked.CompareExchange(ref _firstError, $"{exception.GetType().Name}: {exception.Message}", null);
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>Takes every slot back: each request still out has then answered or timed out.</summary>
    private async Task<long> WaitForInFlightAsync(SemaphoreSlim slots)
    {
        for (var i = 0; i < connections; i++)
        {
            await slots.WaitAsync();
        }

        return Stopwatch.GetTimestamp();
    }

    private LoadResult Result(TimeSpan window, long offered, long notSent, long windowStart, long windowEnd, long quiet) => new()
    {
        Window = window,
        Offered = offered,
        Succeeded = Interlocked.Read(ref _succeeded),
        NonSuccess = Interlocked.Read(ref _nonSuccess),
        Errors = Interlocked.Read(ref _errors),
        NotSent = notSent,
        LatencyMs = _latencies.Summarise(),
        WindowStart = windowStart,
        WindowEnd = windowEnd,
        Quiet = quiet,
        FirstError = _firstError,
    };

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
