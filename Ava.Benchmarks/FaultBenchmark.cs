using System.Diagnostics;
using System.Globalization;
using Ava.AppHost.WhatsApp;

namespace Ava.Benchmarks;

/// <summary>The fault tests' settings, from the command line.</summary>
/// <param name="FaultSeconds">How long each fault lasts; null: each scenario's own default.</param>
/// <param name="MaxRetryDelaySeconds">The webhook's longest backoff in graph-failing; null or 0: Ava's own.</param>
public sealed record FaultSettings(
    double Rate,
    int Connections,
    int Users,
    int Numbers,
    double? FaultSeconds,
    TimeSpan Before,
    TimeSpan After,
    TimeSpan DrainTimeout,
    double? MaxRetryDelaySeconds,
    int SpoolKibibytes,
    int? MessagesPerSecondPerNumber)
{
    /// <summary>The WhatsApp:MaxRetryDelay to give the webhook; null: its own (5 minutes), which is what the tests are for.</summary>
    public TimeSpan? MaxRetryDelay => MaxRetryDelaySeconds is { } seconds and > 0 ? TimeSpan.FromSeconds(seconds) : null;
}

/// <summary>
/// The hardening issue's fault tests: the stack with two webhook instances under a steady load of signed
/// deliveries from linked users, and per scenario a fault injected for a while and ended while the load goes on.
/// Refused deliveries are sent again as Meta would. Reports what the contract promises: acknowledged, non-2xx (and
/// whether the contract allows them), lost (acknowledged, never echoed), duplicated (echoed twice; repeats in the
/// crash window Meta's API leaves open counted apart), and how long after the fault everything was answered.
/// </summary>
public static class FaultBenchmark
{
    /// <summary>"0 lost, 0 duplicated outside the crash window, everything answered within 30 s of recovery."</summary>
    private const double RecoveryLimitSeconds = 30;

    /// <summary>Repeats caused by an expired claim arrive a lease (14 s) after the holder died: wait that long and more.</summary>
    private static readonly TimeSpan s_duplicateSettle = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan s_probeTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_faultCommandTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan s_observeInterval = TimeSpan.FromMilliseconds(250);

    public static async Task<int> RunAsync(BenchmarkArguments arguments)
    {
        var scenario = arguments.Text("scenario") ?? "all";
        var settings = new FaultSettings(
            Rate: arguments.Number("rate", 200, min: 1),
            Connections: arguments.Int("connections", 256, min: 1),
            Users: arguments.Int("users", 1_000, min: 1),
            Numbers: arguments.Int("numbers", 16, min: 1),
            FaultSeconds: arguments.Text("fault-seconds") is null ? null : arguments.Number("fault-seconds", 0, min: 1),
            Before: arguments.Seconds("before", 10, min: 1),
            After: arguments.Seconds("after", 10, min: 1),
            DrainTimeout: arguments.Seconds("drain-timeout", 120, min: 1),
            MaxRetryDelaySeconds: arguments.Text("max-retry-delay") is null ? null : arguments.Number("max-retry-delay", 0),
            SpoolKibibytes: arguments.Int("spool-kib", 64, min: 4),
            MessagesPerSecondPerNumber: arguments.Text("tier") is null ? null : arguments.Int("tier", 80, min: 1));
        arguments.RejectUnknown();

        var names = scenario == "all" ? FaultScenario.Names.ToList() : scenario.Split(',').ToList();
        if (names.FirstOrDefault(name => !FaultScenario.Names.Contains(name)) is { } unknown)
        {
            throw new BenchmarkArgumentException($"no scenario '{unknown}'; known: {string.Join(", ", FaultScenario.Names)}, all");
        }

        var outcomes = new List<ScenarioOutcome>();
        foreach (var name in names)
        {
            using var fault = FaultScenario.Create(name);
            try
            {
                outcomes.Add(await RunScenarioAsync(fault, settings));
            }
            catch (Exception exception) when (exception is not BenchmarkArgumentException)
            {
                // One scenario that cannot run (a stack that does not start) is a finding; the others still run.
                Console.WriteLine($"--- {name} could not run: {exception}");
                outcomes.Add(ScenarioOutcome.CouldNotRun(name, $"{exception.GetType().Name}: {exception.Message}"));
            }
        }

        PrintSummary(settings, outcomes);
        return outcomes.All(o => o.Skipped is not null || o.Holds) ? 0 : 1;
    }

    private static async Task<ScenarioOutcome> RunScenarioAsync(FaultScenario fault, FaultSettings settings)
    {
        var started = Stopwatch.GetTimestamp();
        var faultSeconds = settings.FaultSeconds ?? fault.DefaultSeconds;
        Console.WriteLine();
        Console.WriteLine($"=== {fault.Name}: {faultSeconds:F0} s ===");

        Dictionary<string, string> webhookSettings;
        try
        {
            webhookSettings = await fault.PrepareAsync(settings, faultSeconds);
        }
        catch (TmpfsUnavailableException exception)
        {
            Console.WriteLine($"Skipped: {exception.Message}");
            return ScenarioOutcome.Skip(fault.Name, exception.Message);
        }

        if (settings.MessagesPerSecondPerNumber is { } tier)
        {
            // Meta's higher throughput tiers (up to 1,000 messages/s per number): how fast a backlog may be caught up.
            webhookSettings["WhatsApp__MessagesPerSecondPerNumber"] = tier.ToString(CultureInfo.InvariantCulture);
        }

        await using var graph = await GraphStandIn.StartAsync(journal: true);
        Console.WriteLine($"{fault.Fault}. Starting the stack (two webhook instances{Describe(webhookSettings)})...");
        await using var stack = await AvaStack.StartAsync(2, graph.BaseUrl, webhookSettings, countServiceErrors: true);
        graph.AccessToken = await stack.GetParameterAsync(WhatsAppCloudApiExtensions.AccessTokenParameter);
        var deliveries = new WebhookDeliveries(
            await stack.GetParameterAsync(WhatsAppCloudApiExtensions.AppSecretParameter), settings.Users, settings.Numbers);
        await new BenchmarkDatabase(await stack.GetDatabaseConnectionStringAsync()).SeedLinkedUsersAsync(settings.Users, WebhookDeliveries.FirstPhone);
        using var client = stack.CreateLoadClient(AvaStack.WebhookApi, settings.Connections);
        await using var statuses = new MetaStatusReporter(client, await stack.GetParameterAsync(WhatsAppCloudApiExtensions.AppSecretParameter));
        graph.Accepted = statuses.Report;

        // Message 0 is the probe: its echo proves the webhook sends to the stand-in, not to the simulator.
        using (var probe = await client.SendAsync(deliveries.Create(0)))
        {
            probe.EnsureSuccessStatusCode();
        }

        if (!await LoadBenchmark.WaitUntilAsync(() => graph.Sends.Count(0) > 0, s_probeTimeout))
        {
            throw new InvalidOperationException($"The probe's echo never reached the Graph API stand-in (refused calls: {graph.Refused}).");
        }

        Console.WriteLine($"Stack up in {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s. Load: {settings.Rate:N0} deliveries/s through the proxy; " +
            $"fault after {settings.Before.TotalSeconds:F0} s, for {faultSeconds:F0} s, load until {settings.After.TotalSeconds:F0} s after it ends.");

        stack.ServiceErrors!.Clear();

        // Message n+1 for request n, so that the probe's number 0 stays out of the accounting.
        var acks = new SequenceLog();
        var redelivery = new MetaRedelivery(client, deliveries, acks);
        var run = new FaultRun(stack, graph, faultSeconds, Stopwatch.GetTimestamp());
        var generator = new HttpLoadGenerator(
            settings.Connections,
            n => SendAsync(run, client, deliveries, n + 1),
            (n, answeredAt) => acks.Record(n + 1, answeredAt),
            (n, _) => redelivery.Refused(n + 1));

        using var stopLoad = new CancellationTokenSource();
        using var observing = new CancellationTokenSource();
        var progress = LoadBenchmark.PrintProgressAsync(acks, graph, observing.Token);
        var observer = ObserveAsync(fault, run, observing.Token);
        var load = generator.RunOpenLoopAsync(settings.Rate, TimeSpan.Zero, TimeSpan.FromDays(1), stopLoad.Token);
        string? faultFailure = null;

        // Stopping or starting a resource that never gets there must not hold the run forever.
        using var faultTimeout = new CancellationTokenSource(settings.Before + TimeSpan.FromSeconds(faultSeconds) + s_faultCommandTimeout);
        try
        {
            await Task.Delay(settings.Before);
            run.EnterPhase(FaultPhase.During);
            var faultStarted = Stopwatch.GetTimestamp();
            await fault.BeginAsync(run, faultTimeout.Token);
            var remaining = TimeSpan.FromSeconds(faultSeconds) - Stopwatch.GetElapsedTime(faultStarted);
            await Task.Delay(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
            await fault.EndAsync(run, faultTimeout.Token);
            var faultEnded = Stopwatch.GetTimestamp();

            // A kill is over the moment it happens: recovery counts from then (the scenario says so); an outage is over
            // when the resource is back.
            if (run.Killed is null)
            {
                run.RecoveryFrom = faultEnded;
            }

            run.Note($"fault lasted {Stopwatch.GetElapsedTime(faultStarted, faultEnded).TotalSeconds:F1} s, stopping and starting included" +
                (run.Killed is null ? "" : "; recovery is counted from the kill itself"));
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException or OperationCanceledException)
        {
            faultFailure = exception is OperationCanceledException
                ? $"a stop or start command did not complete within {s_faultCommandTimeout.TotalSeconds:F0} s"
                : exception.Message;
            run.RecoveryFrom = Stopwatch.GetTimestamp();
            run.Say($"the fault could not be played: {exception.Message}");
        }

        run.EnterPhase(FaultPhase.After);
        await Task.Delay(settings.After);
        await stopLoad.CancelAsync();
        var result = await load;
        run.Say($"load over: {result.Offered:N0} deliveries offered, {redelivery.Outstanding:N0} refused ones still being retried; waiting for the drain...");

        var deadline = Stopwatch.GetTimestamp() + (long)(settings.DrainTimeout.TotalSeconds * Stopwatch.Frequency);
        var drained = await LoadBenchmark.WaitUntilAsync(
            () => redelivery.Outstanding == 0 && LoadBenchmark.Pending(acks, graph.Sends) == 0,
            Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline));
        if (drained)
        {
            // Repeats of sends a dead instance never recorded come a lease later: give them time to show.
            var settleUntil = Math.Max(
                Stopwatch.GetTimestamp() + (long)(5 * Stopwatch.Frequency),
                run.RecoveryFrom + (long)(s_duplicateSettle.TotalSeconds * Stopwatch.Frequency));
            await Task.Delay(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), settleUntil));
        }

        await redelivery.StopAsync();
        await observing.CancelAsync();
        await Task.WhenAll(progress, observer);
        fault.Conclude(run);
        run.Note($"Meta's statuses: {statuses.Reported:N0} reported, {statuses.Acknowledged:N0} acknowledged, {statuses.Refused:N0} deliveries of them refused and sent again");

        var outcome = Account(fault, run, acks, redelivery, faultFailure, Stopwatch.GetElapsedTime(started));
        PrintScenario(outcome);
        Console.WriteLine("Stopping the stack...");
        return outcome;
    }

    /// <summary>One delivery: through the proxy, or while racing, one copy to each instance at the same moment.</summary>
    private static async Task<HttpResponseMessage> SendAsync(FaultRun run, HttpClient proxy, WebhookDeliveries deliveries, long number)
    {
        if (run.RaceTargets is not { } targets)
        {
            using var request = deliveries.Create(number);
            return await CountedAsync(run, proxy, request);
        }

        var copies = deliveries.CreateCopies(number, targets.Count);
        var answers = await Task.WhenAll(targets.Select(async (target, i) =>
        {
            using var copy = copies[i];
            try
            {
                return (Response: await CountedAsync(run, target, copy), Error: (Exception?)null);
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or IOException)
            {
                return (Response: (HttpResponseMessage?)null, Error: exception);
            }
        }));

        // The delivery counts as acknowledged when either copy was.
        var chosen = answers.FirstOrDefault(a => a.Response?.IsSuccessStatusCode == true).Response
            ?? answers.FirstOrDefault(a => a.Response is not null).Response;
        foreach (var (response, _) in answers)
        {
            if (response is not null && response != chosen)
            {
                response.Dispose();
            }
        }

        return chosen ?? throw answers[0].Error!;
    }

    private static async Task<HttpResponseMessage> CountedAsync(FaultRun run, HttpClient client, HttpRequestMessage request)
    {
        try
        {
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
            run.CountAnswer(response.StatusCode);
            return response;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or IOException)
        {
            run.CountAnswer(null);
            throw;
        }
    }

    private static async Task ObserveAsync(FaultScenario fault, FaultRun run, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(s_observeInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                fault.Observe(run);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Every benchmark message: acknowledged or not, echoed how often and when, and how long after the fault.</summary>
    private static ScenarioOutcome Account(
        FaultScenario fault, FaultRun run, SequenceLog acks, MetaRedelivery redelivery, string? faultFailure, TimeSpan took)
    {
        var sends = run.Graph.Sends;
        long acked = 0, lost = 0, echoedWithoutAck = 0, neverAcked = 0;
        double recovery = 0;
        var duplicated = new List<long>();
        for (long n = 1, highest = Math.Max(acks.Highest, sends.Highest); n <= highest; n++)
        {
            var sent = sends.Count(n);
            if (sent > 1)
            {
                duplicated.Add(n);
            }

            if (acks.Count(n) == 0)
            {
                echoedWithoutAck += sent > 0 ? 1 : 0;
                neverAcked += sent == 0 ? 1 : 0;
                continue;
            }

            acked++;
            if (sent == 0)
            {
                lost++;
                continue;
            }

            // How long the echo came after the fault ended, or after the acknowledgement when that came later.
            var waitedFrom = Math.Max(run.RecoveryFrom, acks.FirstAt(n));
            recovery = Math.Max(recovery, Stopwatch.GetElapsedTime(waitedFrom, sends.FirstAt(n)).TotalSeconds);
        }

        var (crashWindow, crashWindowWidth, repeatedAfter) = CrashWindowRepeats(run, duplicated);
        var answers = run.Answers();
        var nonSuccess = answers.Where(a => a.Key.Status is not { } status || (int)status is < 200 or > 299).ToList();
        if (redelivery.Attempts > 0)
        {
            run.Note($"Meta's retries: {redelivery.Attempts:N0} sent, {redelivery.Redelivered:N0} deliveries acknowledged on a retry, " +
                $"{redelivery.RefusedAgain:N0} refused again, {redelivery.Outstanding:N0} never acknowledged");
        }

        if (crashWindow > 0)
        {
            run.Note($"repeated sends in the crash window: {crashWindow} (first sent by the killed instance at most {crashWindowWidth * 1000:F0} ms before it died, " +
                $"sent again by the survivor {repeatedAfter.Min:F1}–{repeatedAfter.Max:F1} s after the kill, when the claims ran out)");
        }

        if (echoedWithoutAck > 0)
        {
            run.Note($"{echoedWithoutAck:N0} echoed without an acknowledgement (stored, but the answer never reached the sender)");
        }

        var errors = run.Stack.ServiceErrors!.Entries;
        if (errors.Count > 0)
        {
            run.Note("errors the services logged: " + string.Join(", ", errors.OrderByDescending(e => e.Value)
                .Select(e => $"{e.Value:N0} × {e.Key.Level} {e.Key.Service} {e.Key.Source}")));
        }

        if (run.Graph.Unrecognised > 0)
        {
            run.Note($"{run.Graph.Unrecognised:N0} texts without a benchmark number reached the Graph API (registration messages?)");
        }

        return new ScenarioOutcome(
            fault.Name,
            Skipped: null,
            FaultFailure: faultFailure,
            Acked: acked,
            NonSuccess: nonSuccess.Sum(a => a.Value.Count),
            NonSuccessDetail: string.Join(", ", nonSuccess.OrderBy(a => a.Key.Phase).Select(a =>
                $"{a.Value.Count:N0} × {(a.Key.Status is { } s ? ((int)s).ToString(CultureInfo.InvariantCulture) : "no answer")} " +
                (a.Key.Phase == FaultPhase.After
                    ? $"after the fault (the last {Stopwatch.GetElapsedTime(run.RecoveryFrom, a.Value.LastAt).TotalSeconds:F1} s after it ended)"
                    : a.Key.Phase == FaultPhase.During ? "during the fault" : "before the fault") +
                (fault.Allows(a.Key.Phase, a.Key.Status) ? " (allowed)" : " (NOT allowed)"))),
            NotAllowed: nonSuccess.Where(a => !fault.Allows(a.Key.Phase, a.Key.Status)).Sum(a => a.Value.Count),
            AllowedNonSuccess: fault.AllowedNonSuccess,
            Lost: lost,
            NeverAcknowledged: redelivery.Outstanding,
            Duplicated: duplicated.Count - crashWindow,
            CrashWindowRepeats: crashWindow,
            RecoverySeconds: lost == 0 ? recovery : double.NaN,
            Took: took,
            Notes: run.Notes);
    }

    /// <summary>
    /// Duplicates Meta's API cannot prevent: sent once by the killed instance (over one of its own connections, before
    /// it died) and once more after its death, when its claim ran out. Every other duplicate is a fault of Ava's.
    /// </summary>
    private static (int Count, double WidestSeconds, (double Min, double Max) RepeatedAfter) CrashWindowRepeats(FaultRun run, List<long> duplicated)
    {
        if (run.Killed is not { } killed || duplicated.Count == 0)
        {
            return (0, 0, (0, 0));
        }

        var wanted = duplicated.ToHashSet();
        var sendsOf = run.Graph.Journal.Where(s => wanted.Contains(s.Number)).GroupBy(s => s.Number);
        var count = 0;
        double widest = 0, repeatedFirst = double.MaxValue, repeatedLast = 0;
        foreach (var sends in sendsOf)
        {
            var ordered = sends.OrderBy(s => s.At).ToList();
            if (ordered.Count == 2 && killed.Ports.Contains(ordered[0].FromPort) && ordered[0].At <= killed.At && ordered[1].At > killed.At)
            {
                count++;
                widest = Math.Max(widest, Stopwatch.GetElapsedTime(ordered[0].At, killed.At).TotalSeconds);
                var repeatedAfter = Stopwatch.GetElapsedTime(killed.At, ordered[1].At).TotalSeconds;
                repeatedFirst = Math.Min(repeatedFirst, repeatedAfter);
                repeatedLast = Math.Max(repeatedLast, repeatedAfter);
            }
        }

        return (count, widest, (repeatedFirst, repeatedLast));
    }

    private static void PrintScenario(ScenarioOutcome outcome)
    {
        Console.WriteLine($"--- {outcome.Name}: {(outcome.Holds ? "holds" : "does not hold")} (took {outcome.Took.TotalSeconds:F0} s)");
        Console.WriteLine($"  acknowledged {outcome.Acked:N0}; non-2xx {outcome.NonSuccess:N0}{(outcome.NonSuccess > 0 ? $" ({outcome.NonSuccessDetail})" : "")}");
        Console.WriteLine($"  non-2xx the contract allows here: {outcome.AllowedNonSuccess}");
        Console.WriteLine($"  lost {outcome.Lost:N0}; duplicated {outcome.Duplicated:N0} (+ {outcome.CrashWindowRepeats:N0} in the crash window); " +
            $"recovery {BenchmarkReport.Decimal(outcome.RecoverySeconds)} s");
        foreach (var note in outcome.Notes)
        {
            Console.WriteLine($"  {note}");
        }

        foreach (var reason in outcome.Reasons)
        {
            Console.WriteLine($"  does not hold: {reason}");
        }

        if (outcome.NotAllowed > 0)
        {
            Console.WriteLine($"  outside the contract: {outcome.NotAllowed:N0} non-2xx it does not allow here (Meta retries them; they are not counted as lost)");
        }
    }

    private static void PrintSummary(FaultSettings settings, List<ScenarioOutcome> outcomes)
    {
        Console.WriteLine();
        Console.WriteLine($"Ava fault tests — {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"machine: {BenchmarkReport.MachineDescription()}");
        Console.WriteLine($"two webhook instances; {settings.Rate:N0} deliveries/s from {settings.Users:N0} linked users to {settings.Numbers} business numbers " +
            $"(paced at {settings.MessagesPerSecondPerNumber ?? 80} messages/s each); " +
            $"fault after {settings.Before.TotalSeconds:F0} s of load, load until {settings.After.TotalSeconds:F0} s after it; refused deliveries retried as Meta would");
        Console.WriteLine($"must hold: 0 lost, 0 duplicated outside the crash window, every acknowledged message answered within {RecoveryLimitSeconds:F0} s of recovery " +
            "(and every refused delivery acknowledged on a retry); non-2xx the contract does not allow are shown beside the verdict");
        Console.WriteLine();

        string[] header = ["scenario", "acked", "non-2xx", "lost", "duplicated (crash window)", "recovery s", "took s", "verdict"];
        var rows = outcomes.Select(o => o.Skipped is { } why
            ? new[] { o.Name, "–", "–", "–", "–", "–", "–", "skipped: " + why }
            : [
                o.Name,
                BenchmarkReport.Count(o.Acked),
                BenchmarkReport.Count(o.NonSuccess) + (o.NonSuccess == 0 ? "" : o.NotAllowed == 0 ? " (allowed)" : $" ({o.NotAllowed:N0} not allowed)"),
                BenchmarkReport.Count(o.Lost),
                $"{o.Duplicated:N0} ({o.CrashWindowRepeats:N0})",
                BenchmarkReport.Decimal(o.RecoverySeconds),
                BenchmarkReport.Count(o.Took.TotalSeconds),
                (o.Holds ? "holds" : "does not hold: " + string.Join("; ", o.Reasons)) +
                    (o.NotAllowed > 0 ? $" — but {o.NotAllowed:N0} non-2xx outside the contract" : ""),
            ]).ToList();
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        Console.WriteLine(string.Join(" | ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        Console.WriteLine(string.Join("-|-", widths.Select(w => new string('-', w))));
        foreach (var row in rows)
        {
            Console.WriteLine(string.Join(" | ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        }

        Console.WriteLine();
        Console.WriteLine("recovery s: from the end of the fault (for kill-webhook: the kill) until the last acknowledged message that was waiting got its echo " +
            "(per message: echo − the later of fault end and its acknowledgement).");
    }

    private static string Describe(Dictionary<string, string> webhookSettings) =>
        webhookSettings.Count == 0 ? "" : "; webhook " + string.Join(", ", webhookSettings.Select(s => $"{s.Key}={s.Value}"));

    private sealed record ScenarioOutcome(
        string Name,
        string? Skipped,
        string? FaultFailure,
        long Acked,
        long NonSuccess,
        string NonSuccessDetail,
        long NotAllowed,
        string AllowedNonSuccess,
        long Lost,
        long NeverAcknowledged,
        long Duplicated,
        long CrashWindowRepeats,
        double RecoverySeconds,
        TimeSpan Took,
        IReadOnlyList<string> Notes)
    {
        public IEnumerable<string> Reasons
        {
            get
            {
                if (FaultFailure is { } failure)
                {
                    yield return "the fault could not be played: " + failure;
                }

                if (Lost > 0)
                {
                    yield return $"{Lost:N0} lost";
                }

                if (Duplicated > 0)
                {
                    yield return $"{Duplicated:N0} duplicated outside the crash window";
                }

                if (NeverAcknowledged > 0)
                {
                    yield return $"{NeverAcknowledged:N0} deliveries never acknowledged, retries included";
                }

                if (!(RecoverySeconds <= RecoveryLimitSeconds))
                {
                    yield return double.IsNaN(RecoverySeconds) ? "not drained" : $"recovery {RecoverySeconds:F1} s > {RecoveryLimitSeconds:F0} s";
                }
            }
        }

        public bool Holds => Skipped is null && !Reasons.Any();

        public static ScenarioOutcome Skip(string name, string why) =>
            new(name, why, null, 0, 0, "", 0, "", 0, 0, 0, 0, double.NaN, TimeSpan.Zero, []);

        public static ScenarioOutcome CouldNotRun(string name, string why) =>
            new(name, null, why, 0, 0, "", 0, "", 0, 0, 0, 0, double.NaN, TimeSpan.Zero, []);
    }
}
