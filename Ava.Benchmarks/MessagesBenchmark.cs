using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Ava.Benchmarks;

/// <summary>
/// GET /messages on a large history: a WhatsApp history seeded straight into the database, then pages of 50 for
/// random signed-in users, closed loop, next to GET /alive on the same service with the same connections.
/// </summary>
public static class MessagesBenchmark
{
    private const int PageSize = 50;
    private static readonly TimeSpan s_tokenLifetime = TimeSpan.FromHours(2);

    public static async Task<int> RunAsync(BenchmarkArguments arguments)
    {
        var rows = arguments.Int("rows", 1_000_000, min: 2);
        var users = arguments.Int("users", 1_000, min: 1);
        var connections = arguments.Int("connections", 16, min: 1);
        var duration = arguments.Seconds("duration", 20, min: 1);
        var warmup = arguments.Seconds("warmup", 5);
        var json = arguments.Text("json");
        arguments.RejectUnknown();

        var runStarted = Stopwatch.GetTimestamp();
        Console.WriteLine("Starting the stack (durable Postgres)...");
        await using var stack = await AvaStack.StartAsync();
        var database = new BenchmarkDatabase(await stack.GetDatabaseConnectionStringAsync());
        var tokens = new SupabaseTokens(await stack.GetParameterAsync("jwt-secret"));
        Console.WriteLine($"Stack up in {Stopwatch.GetElapsedTime(runStarted).TotalSeconds:F0} s. Seeding {rows:N0} messages over {users:N0} users...");

        var (userIds, inserting, vacuuming) = await database.SeedHistoryAsync(rows, users, WebhookDeliveries.FirstPhone);
        var seeding = $"inserted in {inserting.TotalSeconds:F1} s, VACUUM ANALYZE {vacuuming.TotalSeconds:F1} s";
        var authorizations = userIds.Select(id => new AuthenticationHeaderValue("Bearer", tokens.For(id, s_tokenLifetime))).ToArray();
        Console.WriteLine($"Seeded: {seeding}.");

        using var client = stack.CreateLoadClient(AvaStack.MessagesApi, connections);
        var samplePage = await ReadSamplePageAsync(client, authorizations[0]);

        Console.WriteLine($"GET /alive, then GET /messages?limit={PageSize}: {connections} connections, {warmup.TotalSeconds:F0} s warm-up + {duration.TotalSeconds:F0} s each...");
        var alive = await new HttpLoadGenerator(client, connections, _ => new HttpRequestMessage(HttpMethod.Get, "/alive"))
            .RunClosedLoopAsync(warmup, duration);
        var cpu = CpuMeter.Start(() => ServiceProcesses.OfProject("Ava.MessagesApi"));
        var postgresCpu = CpuMeter.Start(() => ServiceProcesses.OfExecutable("postgres"));
        var messages = await new HttpLoadGenerator(client, connections, _ => new HttpRequestMessage(HttpMethod.Get, $"/messages?limit={PageSize}")
            {
                Headers = { Authorization = authorizations[Random.Shared.Next(authorizations.Length)] },
            })
            .RunClosedLoopAsync(warmup, duration);
        var (messagesCpu, databaseCpu) = (cpu.PercentOfOneCore(), postgresCpu.PercentOfOneCore());

        var api = ServiceProcesses.OfProject("Ava.MessagesApi");
        var report = new BenchmarkReport("Ava messages API benchmark")
            .Section("set-up")
            .Row("Postgres", await database.DescribeDurabilityAsync())
            .Row("messagesapi", string.Join(", ", api.Select(p => $"pid {p.Pid}, {p.Build} build, {p.EnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? "?"}")))
            .Row("history", $"{rows:N0} messages ({rows / 2:N0} of them replies with a delivery status) over {users:N0} users")
            .Row("seeding", seeding)
            .Figure("seed_insert_seconds", inserting.TotalSeconds)
            .Figure("seed_vacuum_seconds", vacuuming.TotalSeconds)
            .Row("sample page", samplePage)
            .Section($"closed loop, {connections} connections, {duration.TotalSeconds:F0} s after {warmup.TotalSeconds:F0} s warm-up (ms)");
        AddRow(report, "baseline GET /alive", alive, "alive");
        AddRow(report, $"GET /messages?limit={PageSize}, random user", messages, "messages");
        report.Row("ratio /alive ÷ /messages, req/s", $"{alive.SucceededPerSecond / messages.SucceededPerSecond:F1}", "ratio_alive_to_messages", alive.SucceededPerSecond / messages.SucceededPerSecond)
            .Section("during GET /messages")
            .Row("CPU messagesapi / postgres (100% = one core)", $"{messagesCpu:F0}% / {databaseCpu:F0}%")
            .Figure("cpu_percent_messagesapi", messagesCpu).Figure("cpu_percent_postgres", databaseCpu)
            .Row("peak RSS messagesapi (VmHWM)", BenchmarkReport.Mebibytes(api.FirstOrDefault()?.PeakResidentBytes()),
                "peak_rss_bytes_messagesapi", api.FirstOrDefault()?.PeakResidentBytes());
        report.Print();
        if (json is not null)
        {
            await report.WriteJsonAsync(json);
        }

        Console.WriteLine("Stopping the stack...");
        return 0;
    }

    private static void AddRow(BenchmarkReport report, string name, LoadResult result, string key) => report
        .Row(name,
            $"{BenchmarkReport.Count(result.SucceededPerSecond),7} req/s   p50 {result.LatencyMs.P50,6:F2}   p99 {result.LatencyMs.P99,6:F2}   max {result.LatencyMs.Max,7:F1}   non-2xx/errors {result.NonSuccess}/{result.Errors}"
            + (result.FirstError is { } first ? $" (first: {first})" : ""),
            $"{key}_requests_per_second", result.SucceededPerSecond)
        .Figure($"{key}_p50_ms", result.LatencyMs.P50)
        .Figure($"{key}_p99_ms", result.LatencyMs.P99)
        .Figure($"{key}_max_ms", result.LatencyMs.Max)
        .Figure($"{key}_non_2xx", result.NonSuccess)
        .Figure($"{key}_errors", result.Errors);

    /// <summary>One page read before measuring, to show that the API serves the seeded history (and not empty pages).</summary>
    private static async Task<string> ReadSamplePageAsync(HttpClient client, AuthenticationHeaderValue authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/messages?limit={PageSize}") { Headers = { Authorization = authorization } };
        using var response = await client.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            return $"HTTP {(int)response.StatusCode} for the first user";
        }

        using var page = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
        var items = page.RootElement;
        var withStatus = items.EnumerateArray().Count(item => item.TryGetProperty("delivery_status", out var status) && status.ValueKind != JsonValueKind.Null);
        return $"{items.GetArrayLength()} items for the first user, {withStatus} with a delivery status";
    }
}
