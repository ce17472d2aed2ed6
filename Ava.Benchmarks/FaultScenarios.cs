using System.Diagnostics;
using System.Net;
using Npgsql;

namespace Ava.Benchmarks;

/// <summary>Where a fault test stands: its phase decides which answers the contract allows.</summary>
public enum FaultPhase
{
    Before,
    During,
    After,
}

/// <summary>The live objects of one fault test, shared by the load, the fault and the accounting.</summary>
public sealed class FaultRun(AvaStack stack, GraphStandIn graph, double faultSeconds, long loadStartedAt)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(FaultPhase Phase, HttpStatusCode? Status), (long Count, long LastAt)> _answers = [];
    private volatile IReadOnlyList<HttpClient>? _raceTargets;
    private long _phase;

    public AvaStack Stack { get; } = stack;

    public GraphStandIn Graph { get; } = graph;

    /// <summary>How long the fault is meant to last.</summary>
    public double FaultSeconds { get; } = faultSeconds;

    public FaultPhase Phase => (FaultPhase)Interlocked.Read(ref _phase);

    /// <summary>Stopwatch timestamp recovery is counted from: the end of the fault (or, for a kill, the kill).</summary>
    public long RecoveryFrom { get; set; }

    /// <summary>While set, every delivery goes to each of these instances at once instead of once through the proxy.</summary>
    public IReadOnlyList<HttpClient>? RaceTargets
    {
        get => _raceTargets;
        set => _raceTargets = value;
    }

    /// <summary>The killed instance's connections to the Graph API stand-in and when it died (kill scenario only).</summary>
    public (IReadOnlySet<int> Ports, long At)? Killed { get; set; }

    /// <summary>Things worth knowing about this run, for the report.</summary>
    public List<string> Notes { get; } = [];

    public void EnterPhase(FaultPhase phase) => Interlocked.Exchange(ref _phase, (long)phase);

    /// <summary>Counts an HTTP answer to a delivery (null: none came) in the phase it came in.</summary>
    public void CountAnswer(HttpStatusCode? status)
    {
        var at = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            var key = (Phase, status);
            _answers[key] = (_answers.GetValueOrDefault(key).Count + 1, at);
        }
    }

    /// <summary>The answers to deliveries of the load (not Meta's retries) by phase and status: how many, and when the last came.</summary>
    public IReadOnlyDictionary<(FaultPhase Phase, HttpStatusCode? Status), (long Count, long LastAt)> Answers()
    {
        lock (_lock)
        {
            return new Dictionary<(FaultPhase, HttpStatusCode?), (long, long)>(_answers);
        }
    }

    /// <summary>Prints what just happened, stamped with the seconds since the load started.</summary>
    public void Say(string message) => Console.WriteLine($"  {Stopwatch.GetElapsedTime(loadStartedAt).TotalSeconds,5:F1} s: {message}");

    public void Note(string note) => Notes.Add(note);
}

/// <summary>
/// One fault of the issue's list: how to cause it and end it on a running stack, and which non-2xx answers Ava's
/// contract allows while it lasts (README, docs/reliability.md).
/// </summary>
public abstract class FaultScenario : IDisposable
{
    public const string Postgres = "postgres";
    public const string Redis = "cache";

    private static readonly Dictionary<string, Func<FaultScenario>> s_all = new(StringComparer.Ordinal)
    {
        ["postgres-down"] = () => new ResourceOutage("postgres-down", Postgres, "Postgres stopped (every webhook instance loses it)"),
        ["redis-down"] = () => new ResourceOutage("redis-down", Redis, "Redis stopped"),
        ["graph-failing"] = () => new GraphFailing(),
        ["kill-webhook"] = () => new WebhookKilled(),
        ["replicas-racing"] = () => new ReplicasRacing(),
        ["spool-full"] = () => new SpoolFull(),
    };

    public static IReadOnlyCollection<string> Names => s_all.Keys;

    public static FaultScenario Create(string name) => s_all[name]();

    public abstract string Name { get; }

    /// <summary>What is done to the stack, in a few words.</summary>
    public abstract string Fault { get; }

    public virtual double DefaultSeconds => 20;

    /// <summary>Which non-2xx answers the contract allows, in words (none, unless a scenario says otherwise).</summary>
    public virtual string AllowedNonSuccess => "none: every delivery is stored (Postgres or spool) and acknowledged";

    /// <summary>Whether the contract allows this answer (null: none came) in this phase.</summary>
    public virtual bool Allows(FaultPhase phase, HttpStatusCode? status) => false;

    /// <summary>Before the stack starts: webhook settings the fault needs (it may also prepare the machine).</summary>
    /// <exception cref="TmpfsUnavailableException">The fault cannot be made real here.</exception>
    public virtual Task<Dictionary<string, string>> PrepareAsync(FaultSettings settings, double faultSeconds) =>
        Task.FromResult(new Dictionary<string, string>());

    public abstract Task BeginAsync(FaultRun run, CancellationToken cancellationToken);

    public abstract Task EndAsync(FaultRun run, CancellationToken cancellationToken);

    /// <summary>Figures of the stack worth watching during the fault (e.g. the spool), polled a few times a second.</summary>
    public virtual void Observe(FaultRun run)
    {
    }

    /// <summary>Adds what was observed to the run's notes once it is over.</summary>
    public virtual void Conclude(FaultRun run)
    {
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>A resource of the stack (Postgres, Redis) stopped and started as the dashboard's commands do.</summary>
public class ResourceOutage(string name, string resource, string fault) : FaultScenario
{
    public override string Name => name;

    public override string Fault => fault;

    public override async Task BeginAsync(FaultRun run, CancellationToken cancellationToken)
    {
        var stopping = Stopwatch.GetTimestamp();
        await run.Stack.StopResourceAsync(resource, cancellationToken);
        var took = Stopwatch.GetElapsedTime(stopping).TotalSeconds;
        run.Say($"{resource} stopped (the stop command took {took:F1} s)");
        run.Note($"stopping {resource} took {took:F1} s (from the stop command until every instance had exited)");
    }

    public override async Task EndAsync(FaultRun run, CancellationToken cancellationToken)
    {
        var starting = Stopwatch.GetTimestamp();
        await run.Stack.StartResourceAsync(resource, cancellationToken);
        // The benchmark's own pooled connections died with the server.
        NpgsqlConnection.ClearAllPools();
        run.Say($"{resource} started again and healthy after {Stopwatch.GetElapsedTime(starting).TotalSeconds:F1} s");
    }
}

/// <summary>
/// Postgres stopped while the webhook's spool sits on a volume of a few KiB: the first deliveries fill it, after
/// which neither can store and Ava must answer 503 — and lose nothing it acknowledged.
/// </summary>
public sealed class SpoolFull : ResourceOutage
{
    private TmpfsVolume? _volume;
    private long _leastFree = long.MaxValue;
    private int _mostFiles;

    public SpoolFull()
        : base("spool-full", Postgres, "Postgres stopped with the spool on a full-size tmpfs")
    {
    }

    public override string Fault => $"Postgres stopped; the spool on a {(_volume?.SizeBytes ?? 0) / 1024} KiB tmpfs that fills";

    public override string AllowedNonSuccess =>
        "503 with Retry-After once neither Postgres nor the full spool can store (README: \"Only if neither can store it does Ava answer 503\")";

    public override bool Allows(FaultPhase phase, HttpStatusCode? status) =>
        phase == FaultPhase.During && status == HttpStatusCode.ServiceUnavailable;

    public override async Task<Dictionary<string, string>> PrepareAsync(FaultSettings settings, double faultSeconds)
    {
        _volume = await TmpfsVolume.MountAsync(settings.SpoolKibibytes * 1024L);
        return new Dictionary<string, string> { ["WhatsApp__SpoolDirectory"] = _volume.Path };
    }

    public override void Observe(FaultRun run)
    {
        if (_volume is { } volume)
        {
            _leastFree = Math.Min(_leastFree, volume.FreeBytes);
            _mostFiles = Math.Max(_mostFiles, volume.FileCount);
        }
    }

    public override void Conclude(FaultRun run)
    {
        if (_volume is { } volume)
        {
            run.Note($"spool volume: {volume.SizeBytes / 1024} KiB tmpfs; least free {_leastFree / 1024} KiB, at most {_mostFiles} batch file(s); " +
                $"{volume.FileCount} left after the drain");
        }
    }

    public override void Dispose()
    {
        _volume?.Dispose();
        base.Dispose();
    }
}

/// <summary>The Graph API answering 503 (Meta code 131016) and 429 with Retry-After (130429) in turn, then recovering.</summary>
public sealed class GraphFailing : FaultScenario
{
    private static readonly GraphFailure[] s_failures =
    [
        new(HttpStatusCode.ServiceUnavailable, 131016, "Service unavailable"),
        new(HttpStatusCode.TooManyRequests, 130429, "Rate limit hit", TimeSpan.FromSeconds(5)),
    ];

    public override string Name => "graph-failing";

    public override string Fault => "Graph API answers 503/131016 and 429/130429 (Retry-After 5 s) in turn";

    public override double DefaultSeconds => 60;

    public override Task<Dictionary<string, string>> PrepareAsync(FaultSettings settings, double faultSeconds) =>
        Task.FromResult(settings.MaxRetryDelay is { } maxRetryDelay
            ? new Dictionary<string, string> { ["WhatsApp__MaxRetryDelay"] = maxRetryDelay.ToString("c") }
            : new Dictionary<string, string>());

    public override Task BeginAsync(FaultRun run, CancellationToken cancellationToken)
    {
        run.Graph.Fail(s_failures);
        run.Say("Graph API stand-in failing every call");
        return Task.CompletedTask;
    }

    public override Task EndAsync(FaultRun run, CancellationToken cancellationToken)
    {
        run.Graph.Recover();
        run.Say($"Graph API stand-in answering again ({run.Graph.Failed:N0} calls failed meanwhile)");
        run.Note($"the Graph API was called {run.Graph.Failed:N0} times while failing ({run.Graph.Failed / Math.Max(1, run.FaultSeconds):F0}/s)");
        return Task.CompletedTask;
    }
}

/// <summary>
/// One webhook instance killed with SIGKILL mid-load (no shutdown, no recording of sends in flight); the other must
/// take over its claims when their leases run out. Started again with the orchestrator's start command afterwards.
/// </summary>
public sealed class WebhookKilled : FaultScenario
{
    private Task<string>? _stopped;
    private string? _instance;

    public override string Name => "kill-webhook";

    public override string Fault => "kill -9 of one webhook instance; started again after the fault time";

    public override string AllowedNonSuccess =>
        "no answer for requests the killed instance held or the orchestrator's proxy still sent it: it cannot answer; Meta retries";

    public override bool Allows(FaultPhase phase, HttpStatusCode? status) =>
        phase == FaultPhase.During && status is null or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable;

    public override async Task BeginAsync(FaultRun run, CancellationToken cancellationToken)
    {
        var instances = ServiceProcesses.OfProject("Ava.WebhookApi");
        if (instances.Count < 2)
        {
            throw new InvalidOperationException($"Expected two webhook instances, found {instances.Count}.");
        }

        var victim = instances[0];
        _stopped = run.Stack.WaitForAnInstanceToStopAsync(AvaStack.WebhookApi, cancellationToken);

        // Its connections to the Graph API, read the moment before it dies: sends that came over them are its own.
        var ports = victim.LocalPortsConnectedTo(run.Graph.BaseUrl.Port);
        using (var process = Process.GetProcessById(victim.Pid))
        {
            process.Kill();
        }

        var killedAt = Stopwatch.GetTimestamp();
        run.Killed = (ports, killedAt);
        run.RecoveryFrom = killedAt;
        run.Say($"webhook instance pid {victim.Pid} killed (SIGKILL), {ports.Count} connection(s) to the Graph API open");
        _instance = await _stopped.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        run.Note($"killed pid {victim.Pid}; the orchestrator saw {_instance} stop {Stopwatch.GetElapsedTime(killedAt).TotalSeconds:F1} s later");
    }

    public override async Task EndAsync(FaultRun run, CancellationToken cancellationToken)
    {
        var survivors = ServiceProcesses.OfProject("Ava.WebhookApi").Select(p => p.Pid).ToHashSet();
        var started = Stopwatch.GetTimestamp();
        var wasStopped = await run.Stack.StartInstanceAsync(_instance!, cancellationToken);
        var answering = await WaitUntilHealthyAsync(survivors, cancellationToken);
        var took = Stopwatch.GetElapsedTime(started).TotalSeconds;
        run.Say($"{_instance} started again, answering /health after {took:F1} s");
        run.Note((wasStopped
            ? $"the orchestrator had not restarted it on its own in {Stopwatch.GetElapsedTime(run.Killed!.Value.At, started).TotalSeconds:F0} s; "
            : "the orchestrator had restarted it on its own; ") + $"after the start command it answered /health at {answering} {took:F1} s later");
    }

    /// <summary>
    /// Finds the new instance's process and polls its own /health: the orchestrator checks replicas through their
    /// shared proxy, where the survivor answers for the one starting.
    /// </summary>
    private static async Task<Uri> WaitUntilHealthyAsync(IReadOnlySet<int> survivors, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var url = ServiceProcesses.OfProject("Ava.WebhookApi")
                .Where(p => !survivors.Contains(p.Pid))
                .Select(p => p.EnvironmentVariable("ASPNETCORE_URLS")?.Split(';')[0])
                .FirstOrDefault(u => u is not null);
            if (url is not null)
            {
                var health = new Uri(new Uri(url), "/health");
                try
                {
                    using var response = await client.GetAsync(health, cancellationToken);
                    if (response.IsSuccessStatusCode)
                    {
                        return health;
                    }
                }
                catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }
}

/// <summary>Every delivery posted twice at the same moment, once to each webhook instance directly.</summary>
public sealed class ReplicasRacing : FaultScenario
{
    private readonly List<HttpClient> _clients = [];

    public override string Name => "replicas-racing";

    public override string Fault => "every delivery posted twice at once, one copy straight to each instance";

    public override Task BeginAsync(FaultRun run, CancellationToken cancellationToken)
    {
        foreach (var instance in ServiceProcesses.OfProject("Ava.WebhookApi"))
        {
            var url = instance.EnvironmentVariable("ASPNETCORE_URLS")?.Split(';')[0]
                ?? throw new InvalidOperationException($"Webhook pid {instance.Pid} has no ASPNETCORE_URLS.");
            _clients.Add(AvaStack.CreateLoadClient(new Uri(url), 128));
        }

        if (_clients.Count < 2)
        {
            throw new InvalidOperationException($"Expected two webhook instances, found {_clients.Count}.");
        }

        run.RaceTargets = _clients;
        run.Say($"racing: each delivery to {string.Join(" and ", _clients.Select(c => c.BaseAddress))} at once");
        return Task.CompletedTask;
    }

    public override async Task EndAsync(FaultRun run, CancellationToken cancellationToken)
    {
        run.RaceTargets = null;
        run.Say("racing over: one copy through the proxy again");
        var (deliveries, messages) = await new BenchmarkDatabase(await run.Stack.GetDatabaseConnectionStringAsync()).CountDeliveriesAndMessagesAsync();
        run.Note($"when the racing ended Postgres held {deliveries:N0} deliveries for {messages:N0} messages: both copies stored, one let through the exactly-once gate");
    }

    public override void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        base.Dispose();
    }
}
