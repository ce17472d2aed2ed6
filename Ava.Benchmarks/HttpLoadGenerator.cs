using System.Diagnostics;
using System.Net;

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
public sealed class HttpLoadGenerator
{
    private readonly int _connections;
    private readonly Func<long, Task<HttpResponseMessage>> _send;
    private readonly Action<long, long>? _onSuccess;
    private readonly Action<long, HttpStatusCode?>? _onFailure;
    private readonly LatencySamples _latencies = new();
    private long _succeeded;
    private long _nonSuccess;
    private long _errors;
    private string? _firstError;

    /// <param name="client">Where the requests go.</param>
    /// <param name="connections">Requests in flight at most.</param>
    /// <param name="createRequest">Builds request number n (numbers are unique within a run, warm-up included).</param>
    /// <param name="onSuccess">Told of every 2xx answer, warm-up included: request number and Stopwatch timestamp.</param>
    /// <param name="onFailure">Told of every other answer (its status) and every request that got none (null), warm-up included.</param>
    public HttpLoadGenerator(
        HttpClient client,
        int connections,
        Func<long, HttpRequestMessage> createRequest,
        Action<long, long>? onSuccess = null,
        Action<long, HttpStatusCode?>? onFailure = null)
        : this(connections, number => SendOneAsync(client, createRequest(number)), onSuccess, onFailure)
    {
    }

    /// <param name="connections">Requests in flight at most.</param>
    /// <param name="send">
    /// Sends request number n however the caller needs (e.g. the same delivery to two instances at once) and returns
    /// the answer that counts, its content read; throws what <see cref="HttpClient"/> throws when there is none.
    /// </param>
    /// <param name="onSuccess">Told of every 2xx answer, warm-up included: request number and Stopwatch timestamp.</param>
    /// <param name="onFailure">Told of every other answer (its status) and every request that got none (null), warm-up included.</param>
    public HttpLoadGenerator(
        int connections,
        Func<long, Task<HttpResponseMessage>> send,
        Action<long, long>? onSuccess = null,
        Action<long, HttpStatusCode?>? onFailure = null)
    {
        _connections = connections;
        _send = send;
        _onSuccess = onSuccess;
        _onFailure = onFailure;
    }

    /// <param name="stop">Ends the window early (e.g. a set time after an event whose moment is not known in advance).</param>
    public async Task<LoadResult> RunOpenLoopAsync(double ratePerSecond, TimeSpan warmup, TimeSpan duration, CancellationToken stop = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        var start = Stopwatch.GetTimestamp();
        var windowStart = start + Ticks(warmup);
        var windowEnd = windowStart + Ticks(duration);
        var interval = Stopwatch.Frequency / ratePerSecond;
        using var slots = new SemaphoreSlim(_connections);
        using var stopping = stop.Register(() => Interlocked.Exchange(ref windowEnd, Math.Max(windowStart, Stopwatch.GetTimestamp())));

        long next = 0;
        while (true)
        {
            var due = start + (long)(next * interval);
            if (due >= Interlocked.Read(ref windowEnd))
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

            var untilEnd = Interlocked.Read(ref windowEnd) - Stopwatch.GetTimestamp();
            if (untilEnd <= 0 || !await slots.WaitAsync(Stopwatch.GetElapsedTime(0, untilEnd)))
            {
                break;
            }

            _ = SendAsync(next, due, counted: due >= windowStart, slots);
            next++;
        }

        stopping.Unregister();
        windowEnd = Interlocked.Read(ref windowEnd);
        var dueBeforeWindow = (long)Math.Ceiling((windowStart - start) / interval);
        var dueInTotal = (long)Math.Ceiling((windowEnd - start) / interval);
        var quiet = await WaitForInFlightAsync(slots);
        return Result(Stopwatch.GetElapsedTime(windowStart, windowEnd), dueInTotal - dueBeforeWindow, Math.Max(0, dueInTotal - next), windowStart, windowEnd, quiet);
    }

    public async Task<LoadResult> RunClosedLoopAsync(TimeSpan warmup, TimeSpan duration)
    {
        var windowStart = Stopwatch.GetTimestamp() + Ticks(warmup);
        var windowEnd = windowStart + Ticks(duration);
        long next = -1;
        long started = 0;
        using var slots = new SemaphoreSlim(_connections);

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

        await Task.WhenAll(Enumerable.Range(0, _connections).Select(_ => Task.Run(Worker)));
        return Result(duration, started, 0, windowStart, windowEnd, Stopwatch.GetTimestamp());
    }

    private async Task SendAsync(long number, long due, bool counted, SemaphoreSlim slots)
    {
        try
        {
            using var response = await _send(number);
            var answeredAt = Stopwatch.GetTimestamp();
            if (response.IsSuccessStatusCode)
            {
                _onSuccess?.Invoke(number, answeredAt);
                if (counted)
                {
                    Interlocked.Increment(ref _succeeded);
                    _latencies.Add(Stopwatch.GetElapsedTime(due, answeredAt).TotalMilliseconds);
                }
            }
            else
            {
                _onFailure?.Invoke(number, response.StatusCode);
                if (counted)
                {
                    Interlocked.Increment(ref _nonSuccess);
                    Interlocked.CompareExchange(ref _firstError, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}", null);
                }
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or IOException)
        {
            _onFailure?.Invoke(number, null);
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

    private static async Task<HttpResponseMessage> SendOneAsync(HttpClient client, HttpRequestMessage request)
    {
        using (request)
        {
            return await client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        }
    }

    /// <summary>Takes every slot back: each request still out has then answered or timed out.</summary>
    private async Task<long> WaitForInFlightAsync(SemaphoreSlim slots)
    {
        for (var i = 0; i < _connections; i++)
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
