using System.Diagnostics;
using Ava.AppHost.WhatsApp;

namespace Ava.Benchmarks;

/// <summary>
/// Acknowledgement latency of POST /webhook: sequential requests, each waiting for the delivery to be stored durably
/// (Postgres with fsync, as in production). Baseline: GET /alive on the same service, same client, same run — the
/// cost of an HTTP round trip through the stack with no work behind it.
/// </summary>
public static class LatencyBenchmark
{
    private const int Warmup = 100;

    public static async Task<int> RunAsync(BenchmarkArguments arguments)
    {
        var requests = arguments.Int("requests", 1000, min: 1);
        arguments.RejectUnknown();

        Console.WriteLine("Starting the stack (durable Postgres, one webhook instance)...");
        await using var stack = await AvaStack.StartAsync();

        // Senders are not linked to any user (none are seeded): each gets the registration message, via the simulator.
        var deliveries = new WebhookDeliveries(
            await stack.GetParameterAsync(WhatsAppCloudApiExtensions.AppSecretParameter), linkedUsers: int.MaxValue, businessNumbers: 1);
        using var client = stack.CreateLoadClient(AvaStack.WebhookApi, connections: 1);
        var next = 0L;

        async Task Alive() => (await client.GetAsync("/alive")).EnsureSuccessStatusCode().Dispose();

        async Task Post() => (await client.SendAsync(deliveries.Create(next++))).EnsureSuccessStatusCode().Dispose();

        var baseline = await MeasureAsync(Alive, requests);
        var webhook = await MeasureAsync(Post, requests);

        new BenchmarkReport("Ava webhook acknowledgement latency")
            .Section($"{requests:N0} sequential requests each, after {Warmup} warm-up requests (ms)")
            .Row("", $"{"p50",8}{"p95",8}{"p99",8}")
            .Row("baseline GET /alive", Percentiles(baseline))
            .Row("POST /webhook (stored, acked)", Percentiles(webhook))
            .Row("ratio POST/baseline at p50", $"{webhook.P50 / baseline.P50:F2}")
            .Print();
        Console.WriteLine("Stopping the stack...");
        return 0;
    }

    private static string Percentiles(Latencies latencies) => $"{latencies.P50,8:F2}{latencies.P95,8:F2}{latencies.P99,8:F2}";

    private static async Task<Latencies> MeasureAsync(Func<Task> call, int count)
    {
        for (var i = 0; i < Warmup; i++)
        {
            await call();
        }

        var timings = new double[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await call();
            timings[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        return new Latencies(timings);
    }
}
