using System.Diagnostics;
using Ava.AppHost.WhatsApp;

namespace Ava.Benchmarks;

/// <summary>
/// The whole pipeline under load: signed single-message deliveries from linked users go in at a fixed rate, the
/// echoes come out through the Graph API stand-in. Measures the acknowledgements (rate, latency, failures) and what
/// the pipeline makes of them (sends per second, ack-to-send lag, the backlog and how long it takes to drain, and
/// whether any message was lost or sent twice), next to two baselines of the same stack: the HTTP round trip with
/// no work behind it, and the price of one durable commit.
/// </summary>
public static class LoadBenchmark
{
    private static readonly TimeSpan s_aliveDuration = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_aliveWarmup = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_commitDuration = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_probeTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_progressInterval = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(BenchmarkArguments arguments)
    {
        var settings = new LoadSettings(
            Rate: arguments.Number("rate", 2500),
            Connections: arguments.Int("connections", 32, min: 1),
            Duration: arguments.Seconds("duration", 30, min: 1),
            Warmup: arguments.Seconds("warmup", 5),
            Users: arguments.Int("users", 10_000, min: 1),
            Numbers: arguments.Int("numbers", 64, min: 1),
            Replicas: arguments.Int("replicas", 1, min: 1),
            DrainTimeout: arguments.Seconds("drain-timeout", 120),
            Json: arguments.Text("json"),
            ResponderDelay: arguments.Seconds("responder-delay", 0),
            Media: BenchmarkMedia.FromArguments(arguments),
            MediaDownloads: arguments.Int("media-downloads", 0),
            MediaMibPerSecond: arguments.Number("media-mib-per-second", -1, min: -1));
        arguments.RejectUnknown();

        var runStarted = Stopwatch.GetTimestamp();
        await using var graph = await GraphStandIn.StartAsync();
        graph.Media = settings.Media;
        await using var responder = settings.ResponderDelay > TimeSpan.Zero
            ? await ResponderStandInProcess.StartAsync(Convert.ToHexString(Guid.NewGuid().ToByteArray()), settings.ResponderDelay)
            : null;
        Console.WriteLine($"Starting the stack (durable Postgres, {settings.Replicas} webhook instance(s), Graph API stand-in at {graph.BaseUrl}" +
            (responder is null ? ", Ava's echo answering)..." : $", a responder answering after {settings.ResponderDelay.TotalSeconds:0.#} s at {responder.TurnsUrl})..."));
        await using var stack = await AvaStack.StartAsync(settings.Replicas, graph.BaseUrl, WebhookSettings(settings, responder));
        graph.AccessToken = await stack.GetParameterAsync(WhatsAppCloudApiExtensions.AccessTokenParameter);
        var deliveries = new WebhookDeliveries(
            await stack.GetParameterAsync(WhatsAppCloudApiExtensions.AppSecretParameter), settings.Users, settings.Numbers, settings.Media);
        var database = new BenchmarkDatabase(await stack.GetDatabaseConnectionStringAsync());
        var stackStarted = Stopwatch.GetElapsedTime(runStarted);

        var seeding = Stopwatch.GetTimestamp();
        await database.SeedLinkedUsersAsync(settings.Users, WebhookDeliveries.FirstPhone);
        Console.WriteLine($"Stack up in {stackStarted.TotalSeconds:F0} s; {settings.Users:N0} linked users seeded in {Stopwatch.GetElapsedTime(seeding).TotalSeconds:F1} s.");

        using var client = stack.CreateLoadClient(AvaStack.WebhookApi, settings.Connections);

        // Message 0 is the probe: its echo proves the webhook sends to the stand-in, not to the simulator.
        using (var probe = await client.SendAsync(deliveries.Create(0)))
        {
            probe.EnsureSuccessStatusCode();
        }

        if (!await WaitUntilAsync(() => graph.Sends.Count(0) > 0, s_probeTimeout))
        {
            await Console.Error.WriteLineAsync(
                $"The probe's echo never reached the Graph API stand-in within {s_probeTimeout.TotalSeconds:F0} s " +
                $"(refused calls: {graph.Refused}); the webhook is not sending to it, so nothing could be measured.");
            return 1;
        }

        var webhooks = ServiceProcesses.OfProject("Ava.WebhookApi");
        var messagesApi = ServiceProcesses.OfProject("Ava.MessagesApi");
        var report = new BenchmarkReport("Ava load benchmark")
            .Section("set-up")
            .Row("Postgres", await database.DescribeDurabilityAsync())
            .Row("services", Describe(webhooks, "webhookapi") + "; " + Describe(messagesApi, "messagesapi"))
            .Row("Graph API", "stand-in in the benchmark process; the probe's echo arrived there")
            .Row("linked users / business numbers", $"{settings.Users:N0} / {settings.Numbers:N0}")
            .Row("who answers", responder is null ? "Ava's echo" : $"a responder stand-in in a process of its own, answering each turn after {settings.ResponderDelay.TotalSeconds:0.#} s")
            .Row("media", settings.Media is { } media
                ? media.Describe() + (settings.MediaDownloads > 0 ? $"; {settings.MediaDownloads} downloads at once per instance" : "")
                  + (settings.MediaMibPerSecond >= 0 ? $"; kept at most {settings.MediaMibPerSecond:0.#} MiB/s (0: unpaced)" : "; kept at Ava's default pace")
                : "none: text only");

        await MeasureBaselinesAsync(report, client, settings.Connections, database);
        await MeasureLoadAsync(report, settings, client, deliveries, graph, responder);
        if (settings.Media is not null)
        {
            await MediaLoadReport.AddAsync(report, database, graph, settings.DrainTimeout);
        }
        if (responder is not null)
        {
            var turns = await responder.ReadStatsAsync();
            report.Section($"responder: {settings.ResponderDelay.TotalSeconds:0.#} s per turn")
                .Row("turns asked", $"{turns.Calls:N0}", "responder_calls", turns.Calls)
                .Row("turns asked more than once (same Idempotency-Key)", $"{turns.AskedAgain:N0}", "responder_asked_again", turns.AskedAgain)
                .Row("most turns of one user at once (promise: 1)", $"{turns.MostAtOnceForOneUser:N0}", "responder_most_at_once_one_user", turns.MostAtOnceForOneUser)
                .Row("most turns in flight at once", $"{turns.MostInFlight:N0}", "responder_most_in_flight", turns.MostInFlight)
                .Row("badly signed turns", $"{turns.Refused:N0}", "responder_refused", turns.Refused);
        }

        report.Section("memory (peak RSS, VmHWM)");
        foreach (var process in webhooks)
        {
            report.Row($"webhookapi (pid {process.Pid})", BenchmarkReport.Mebibytes(process.PeakResidentBytes()));
        }

        report.Figure("peak_rss_bytes_webhookapi", webhooks.Max(p => p.PeakResidentBytes()));
        foreach (var process in messagesApi)
        {
            report.Row($"messagesapi (pid {process.Pid})", BenchmarkReport.Mebibytes(process.PeakResidentBytes()), "peak_rss_bytes_messagesapi", process.PeakResidentBytes());
        }

        report.Print();
        if (settings.Json is { } json)
        {
            await report.WriteJsonAsync(json);
        }

        Console.WriteLine("Stopping the stack...");
        return 0;
    }

    /// <summary>What the same stack does with no pipeline behind it: the HTTP round trip, and one durable commit.</summary>
    private static async Task MeasureBaselinesAsync(BenchmarkReport report, HttpClient client, int connections, BenchmarkDatabase database)
    {
        Console.WriteLine($"Baselines: GET /alive for {s_aliveDuration.TotalSeconds:F0} s, then durable single-row INSERTs for {s_commitDuration.TotalSeconds:F0} s...");
        var alive = await new HttpLoadGenerator(client, connections, _ => new HttpRequestMessage(HttpMethod.Get, "/alive"))
            .RunClosedLoopAsync(s_aliveWarmup, s_aliveDuration);
        var (commitsPerSecond, commitLatency) = await database.MeasureSingleRowCommitsAsync(s_commitDuration);
        report.Section("baselines (same stack, before the load)")
            .Row($"GET /alive, closed loop, {connections} connections, {s_aliveDuration.TotalSeconds:F0} s",
                $"{BenchmarkReport.Count(alive.SucceededPerSecond)} req/s   p50 {alive.LatencyMs.P50:F2} ms   p99 {alive.LatencyMs.P99:F2} ms",
                "alive_requests_per_second", alive.SucceededPerSecond)
            .Figure("alive_p50_ms", alive.LatencyMs.P50)
            .Figure("alive_p99_ms", alive.LatencyMs.P99)
            .Row($"durable single-row INSERT, 1 connection, {s_commitDuration.TotalSeconds:F0} s",
                $"{BenchmarkReport.Count(commitsPerSecond)} commits/s   p50 {commitLatency.P50:F2} ms",
                "commits_per_second", commitsPerSecond)
            .Figure("commit_p50_ms", commitLatency.P50);
    }

    /// <summary>The load itself, then the wait for the pipeline to send every acknowledged message.</summary>
    private static async Task MeasureLoadAsync(
        BenchmarkReport report, LoadSettings settings, HttpClient client, WebhookDeliveries deliveries, GraphStandIn graph,
        ResponderStandInProcess? responder)
    {
        // Message n+1 for request n, so that the probe's number 0 stays out of the accounting.
        var acks = new SequenceLog();
        var generator = new HttpLoadGenerator(
            client, settings.Connections, n => deliveries.Create(n + 1), (n, answeredAt) => acks.Record(n + 1, answeredAt));
        var loadStarted = Stopwatch.GetTimestamp();
        var cpu = new Dictionary<string, CpuMeter>
        {
            ["webhookapi"] = CpuMeter.Start(() => ServiceProcesses.OfProject("Ava.WebhookApi")),
            ["postgres"] = CpuMeter.Start(() => ServiceProcesses.OfExecutable("postgres")),
            ["benchmark process (load, Graph stand-in)"] = CpuMeter.Start(() => [ServiceProcesses.Self()]),
        };
        if (responder is not null)
        {
            cpu["responder stand-in"] = CpuMeter.Start(() => [responder.AsServiceProcess()]);
        }

        Console.WriteLine(settings.Rate > 0
            ? $"Load: {settings.Rate:N0} deliveries/s, at most {settings.Connections} in flight, {settings.Warmup.TotalSeconds:F0} s warm-up + {settings.Duration.TotalSeconds:F0} s..."
            : $"Load: closed loop, {settings.Connections} connections, {settings.Warmup.TotalSeconds:F0} s warm-up + {settings.Duration.TotalSeconds:F0} s...");
        using var progress = new CancellationTokenSource();
        var printing = PrintProgressAsync(acks, graph, progress.Token);
        var load = settings.Rate > 0
            ? await generator.RunOpenLoopAsync(settings.Rate, settings.Warmup, settings.Duration)
            : await generator.RunClosedLoopAsync(settings.Warmup, settings.Duration);
        var cpuShares = cpu.ToDictionary(c => c.Key, c => c.Value.PercentOfOneCore());
        var backlogAtEnd = Pending(acks, graph.Sends);

        Console.WriteLine($"Load over; backlog {backlogAtEnd:N0}. Waiting up to {settings.DrainTimeout.TotalSeconds:F0} s after the load for every acknowledged message to be sent...");
        var drainDeadline = load.WindowEnd + (long)(settings.DrainTimeout.TotalSeconds * Stopwatch.Frequency);
        await WaitUntilAsync(() => Pending(acks, graph.Sends) == 0, Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), drainDeadline));
        await progress.CancelAsync();
        await printing;

        AddLoadFigures(report, settings, load, loadStarted, Account(acks, graph.Sends, load), backlogAtEnd, graph);
        report.Section("CPU during the load, warm-up included (100% = one core)");
        foreach (var (name, share) in cpuShares)
        {
            report.Row(name, $"{share:F0}%", $"cpu_percent_{name.Split(' ')[0]}", share);
        }
    }

    private static void AddLoadFigures(
        BenchmarkReport report, LoadSettings settings, LoadResult load, long loadStarted, PipelineAccount pipeline, long backlogAtEnd, GraphStandIn graph)
    {
        var windowSeconds = load.Window.TotalSeconds;
        var lastSentAfterLoad = pipeline.LastAckedSentAt == 0 ? double.NaN : Stopwatch.GetElapsedTime(load.WindowEnd, pipeline.LastAckedSentAt).TotalSeconds;
        var drained = pipeline.Pending == 0;
        var drainSeconds = drained ? Math.Max(0, lastSentAfterLoad) : double.NaN;
        var overallSeconds = pipeline.LastAckedSentAt == 0 ? double.NaN : Stopwatch.GetElapsedTime(loadStarted, pipeline.LastAckedSentAt).TotalSeconds;

        report.Section(settings.Rate > 0
                ? $"acknowledgements: open loop at {settings.Rate:N0}/s, ≤ {settings.Connections} in flight, {windowSeconds:F0} s after {settings.Warmup.TotalSeconds:F0} s warm-up"
                : $"acknowledgements: closed loop, {settings.Connections} connections, {windowSeconds:F0} s after {settings.Warmup.TotalSeconds:F0} s warm-up")
            .Row("offered", $"{BenchmarkReport.Count(load.OfferedPerSecond)} req/s", "offered_per_second", load.OfferedPerSecond)
            .Row("acknowledged (2xx)", $"{BenchmarkReport.Count(load.SucceededPerSecond)} req/s", "acks_per_second", load.SucceededPerSecond)
            .Row("ack latency p50 / p90 / p99 / max",
                $"{load.LatencyMs.P50:F1} / {load.LatencyMs.P90:F1} / {load.LatencyMs.P99:F1} / {load.LatencyMs.Max:F1} ms")
            .Figure("ack_p50_ms", load.LatencyMs.P50).Figure("ack_p90_ms", load.LatencyMs.P90)
            .Figure("ack_p99_ms", load.LatencyMs.P99).Figure("ack_max_ms", load.LatencyMs.Max)
            .Row("non-2xx / errors", $"{load.NonSuccess:N0} / {load.Errors:N0}" + (load.FirstError is { } first ? $"   (first: {first})" : ""))
            .Figure("non_2xx", load.NonSuccess).Figure("errors", load.Errors);
        if (settings.Rate > 0)
        {
            report.Row("not sent (all connections busy to the end)", $"{load.NotSent:N0}", "not_sent", load.NotSent);
        }

        report.Section(settings.ResponderDelay > TimeSpan.Zero ? "pipeline: the responder's answers through the Graph API stand-in" : "pipeline: echoes through the Graph API stand-in")
            .Row("sent during the load window", $"{BenchmarkReport.Count(pipeline.SentInWindow / windowSeconds)} msg/s", "sent_per_second_in_window", pipeline.SentInWindow / windowSeconds)
            .Row("sent overall, load start to last echo", $"{BenchmarkReport.Count(pipeline.SentOfAcked / overallSeconds)} msg/s", "sent_per_second_overall", pipeline.SentOfAcked / overallSeconds)
            .Row("ack → sent lag p50 / p99", $"{pipeline.LagSeconds.P50:F2} / {pipeline.LagSeconds.P99:F2} s")
            .Figure("lag_p50_s", pipeline.LagSeconds.P50).Figure("lag_p99_s", pipeline.LagSeconds.P99)
            .Row("acknowledged in all (warm-up included)", $"{pipeline.Acked:N0}", "acked_total", pipeline.Acked)
            .Row("backlog at load end (acked − sent)", $"{backlogAtEnd:N0}", "backlog_at_load_end", backlogAtEnd)
            .Row("drain after load end", drained
                ? $"{drainSeconds:F1} s"
                : $"not drained: --drain-timeout {settings.DrainTimeout.TotalSeconds:F0} s passed", "drain_seconds", drainSeconds)
            .Row(drained ? "lost (acked, never sent)" : "acked, not sent by the timeout", $"{pipeline.Pending:N0}", "acked_not_sent", pipeline.Pending)
            .Row("duplicated (sent more than once)", $"{pipeline.Duplicated:N0} messages, {pipeline.ExtraSends:N0} extra sends", "duplicated", pipeline.Duplicated)
            .Row("sent without an ack (request failed, yet stored)", $"{pipeline.SentNotAcked:N0}", "sent_not_acked", pipeline.SentNotAcked)
            .Row("read receipts + typing (Graph calls besides the echoes)", $"{graph.OtherCalls:N0} ({BenchmarkReport.Count(graph.OtherCalls / overallSeconds)} /s)", "read_receipts", graph.OtherCalls)
            .Row("unrecognised texts / refused", $"{graph.Unrecognised:N0} / {graph.Refused:N0}");
    }

    /// <summary>Where every benchmark message stands: acknowledged, sent (how often, when), or still waiting.</summary>
    private static PipelineAccount Account(SequenceLog acks, SequenceLog sends, LoadResult load)
    {
        long acked = 0, pending = 0, sentOfAcked = 0, sentInWindow = 0, duplicated = 0, extraSends = 0, sentNotAcked = 0, lastAckedSentAt = 0;
        var lags = new List<double>();
        var highest = Math.Max(acks.Highest, sends.Highest);
        for (long n = 1; n <= highest; n++)
        {
            var sent = sends.Count(n);
            if (sent > 1)
            {
                duplicated++;
                extraSends += sent - 1;
            }

            if (sent > 0 && sends.FirstAt(n) >= load.WindowStart && sends.FirstAt(n) < load.WindowEnd)
            {
                sentInWindow++;
            }

            if (acks.Count(n) == 0)
            {
                sentNotAcked += sent > 0 ? 1 : 0;
                continue;
            }

            acked++;
            if (sent == 0)
            {
                pending++;
                continue;
            }

            sentOfAcked++;
            lastAckedSentAt = Math.Max(lastAckedSentAt, sends.FirstAt(n));
            lags.Add(Stopwatch.GetElapsedTime(acks.FirstAt(n), sends.FirstAt(n)).TotalSeconds);
        }

        return new PipelineAccount(acked, pending, sentOfAcked, sentInWindow, duplicated, extraSends, sentNotAcked, lastAckedSentAt, new Latencies([.. lags]));
    }

    /// <summary>How many acknowledged messages have not been sent yet.</summary>
    internal static long Pending(SequenceLog acks, SequenceLog sends)
    {
        long pending = 0;
        for (long n = 1, highest = acks.Highest; n <= highest; n++)
        {
            pending += acks.Count(n) > 0 && sends.Count(n) == 0 ? 1 : 0;
        }

        return pending;
    }

    internal static async Task PrintProgressAsync(SequenceLog acks, GraphStandIn graph, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var timer = new PeriodicTimer(s_progressInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                Console.WriteLine($"  {Stopwatch.GetElapsedTime(started).TotalSeconds,5:F0} s: acknowledged {acks.Distinct,9:N0}   echoes sent {graph.Sends.Distinct,9:N0}");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    internal static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(Math.Max(0, timeout.TotalSeconds) * Stopwatch.Frequency);
        while (!condition())
        {
            if (Stopwatch.GetTimestamp() >= deadline)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }

        return true;
    }

    /// <summary>
    /// The webhook's settings for the run. A responder: the stand-in, and room for every turn the load keeps in flight
    /// (rate × delay) with a margin, so that composing is bounded by the responder's delay and not by the instance's
    /// room. Media: as many downloads at once as asked.
    /// </summary>
    private static Dictionary<string, string> WebhookSettings(LoadSettings settings, ResponderStandInProcess? responder)
    {
        var webhook = new Dictionary<string, string>();
        if (responder is not null)
        {
            webhook["WhatsApp__Responder__Url"] = responder.TurnsUrl.ToString();
            webhook["WhatsApp__Responder__Secret"] = responder.Secret;
            webhook["WhatsApp__Responder__MaxConcurrentTurns"] = ((int)Math.Ceiling(Math.Max(settings.Rate, 100) * settings.ResponderDelay.TotalSeconds * 2) + 256)
                .ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (settings.MediaDownloads > 0)
        {
            webhook["WhatsApp__Media__MaxConcurrentDownloads"] = settings.MediaDownloads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (settings.MediaMibPerSecond >= 0)
        {
            webhook["WhatsApp__Media__MaxBytesPerSecond"] = ((long)(settings.MediaMibPerSecond * 1024 * 1024)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return webhook;
    }

    private static string Describe(IReadOnlyList<ServiceProcess> processes, string name) => processes.Count == 0
        ? $"{name}: process not found"
        : $"{name} ×{processes.Count} ({string.Join(", ", processes.Select(p => p.Build).Distinct())} build, " +
          $"{string.Join(", ", processes.Select(p => p.EnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? "?").Distinct())})";

    /// <param name="ResponderDelay">Zero: Ava's echo answers; otherwise a responder stand-in, taking this long per turn.</param>
    /// <param name="Media">What share of the messages carries media, and which; null: text only.</param>
    /// <param name="MediaDownloads">Downloads at once per webhook instance; 0: Ava's default.</param>
    /// <param name="MediaMibPerSecond">Media written per second per webhook instance; 0: no limit; negative: Ava's default.</param>
    private sealed record LoadSettings(
        double Rate, int Connections, TimeSpan Duration, TimeSpan Warmup, int Users, int Numbers, int Replicas, TimeSpan DrainTimeout, string? Json,
        TimeSpan ResponderDelay, BenchmarkMedia? Media, int MediaDownloads, double MediaMibPerSecond);

    private sealed record PipelineAccount(
        long Acked, long Pending, long SentOfAcked, long SentInWindow, long Duplicated, long ExtraSends, long SentNotAcked, long LastAckedSentAt, Latencies LagSeconds);
}
