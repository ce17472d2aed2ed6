using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ava.Responder.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Ava.Benchmarks;

/// <summary>
/// A responder as slow as a language model: it checks each turn's signature, thinks for a fixed delay, and answers with
/// the message's own text — so that the Graph API stand-in counts each benchmark message once, whoever answered it.
/// Counts the turns, the ones asked again, and the most a user had in flight at once (<see cref="Stats"/>, also served
/// at <c>GET /stats</c>). It runs in a process of its own (<see cref="ResponderStandInProcess"/>): thousands of turns
/// held for seconds are exactly the garbage a collector pauses longest for, and a pause in the load generator's process
/// would be counted as Ava's acknowledgement latency.
/// </summary>
public sealed class ResponderStandIn : IAsyncDisposable
{
    /// <summary>The command-line mode that runs a stand-in (the secret comes in <see cref="SecretVariable"/>).</summary>
    public const string Mode = "responder-stand-in";

    public const string SecretVariable = "AVA_RESPONDER_STAND_IN_SECRET";

    private readonly WebApplication _app;
    private readonly string _secret;
    private readonly TimeSpan _delay;
    private readonly ConcurrentDictionary<string, int> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, int> _inFlightByUser = new();
    private long _calls;
    private long _refused;
    private int _mostAtOnceForOneUser;
    private int _inFlight;
    private int _mostInFlight;

    private ResponderStandIn(WebApplication app, string secret, TimeSpan delay)
    {
        _app = app;
        _secret = secret;
        _delay = delay;
    }

    public Uri TurnsUrl => new(new Uri(_app.Urls.Single()), "/turns");

    public ResponderStandInStats Stats => new(
        Interlocked.Read(ref _calls),
        _keys.Values.Count(n => n > 1),
        Interlocked.Read(ref _refused),
        Volatile.Read(ref _mostAtOnceForOneUser),
        Volatile.Read(ref _mostInFlight));

    private static async Task<ResponderStandIn> StartAsync(string secret, TimeSpan delay)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var standIn = new ResponderStandIn(app, secret, delay);
        app.MapPost("/turns", standIn.AnswerAsync);
        app.MapGet("/stats", () => TypedResults.Json(standIn.Stats, ResponderStandInJsonContext.Default.ResponderStandInStats));
        await app.StartAsync();
        return standIn;
    }

    /// <summary>
    /// The child process's whole life: <c>responder-stand-in --delay S</c>, the secret in the environment. Prints the
    /// turns URL as its first line, then answers until its standard input closes (the benchmark ending, or dying).
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        if (args is not [Mode, "--delay", var delayText]
            || !double.TryParse(delayText, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            || Environment.GetEnvironmentVariable(SecretVariable) is not { Length: > 0 } secret)
        {
            await Console.Error.WriteLineAsync($"usage: {Mode} --delay S, with {SecretVariable} set");
            return 2;
        }

        await using var standIn = await StartAsync(secret, TimeSpan.FromSeconds(seconds));
        Console.WriteLine(standIn.TurnsUrl);
        await Console.In.ReadToEndAsync();
        return 0;
    }

    private async Task AnswerAsync(HttpContext context)
    {
        Interlocked.Increment(ref _calls);
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        if (!TurnSignature.IsValid(context.Request.Headers[TurnSignature.HeaderName], _secret, body))
        {
            Interlocked.Increment(ref _refused);
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        var turn = JsonSerializer.Deserialize(body, ResponderJsonContext.Default.Turn)!;
        _keys.AddOrUpdate(turn.TurnId, 1, (_, n) => n + 1);
        Max(ref _mostAtOnceForOneUser, _inFlightByUser.AddOrUpdate(turn.UserId, 1, (_, n) => n + 1));
        Max(ref _mostInFlight, Interlocked.Increment(ref _inFlight));
        try
        {
            await Task.Delay(_delay, context.RequestAborted);
        }
        finally
        {
            _inFlightByUser.AddOrUpdate(turn.UserId, 0, (_, n) => n - 1);
            Interlocked.Decrement(ref _inFlight);
        }

        await context.Response.WriteAsJsonAsync(
            new TurnAnswer([new TurnReply(TurnReply.TextType, turn.Message.Summary)]), ResponderJsonContext.Default.TurnAnswer, cancellationToken: context.RequestAborted);
    }

    private static void Max(ref int most, int value)
    {
        for (var seen = Volatile.Read(ref most); value > seen; seen = Volatile.Read(ref most))
        {
            if (Interlocked.CompareExchange(ref most, value, seen) == seen)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>What the responder stand-in counted (see <see cref="ResponderStandIn"/>).</summary>
/// <param name="AskedAgain">Turns asked about more than once (the same <c>Idempotency-Key</c>).</param>
/// <param name="Refused">Calls whose signature did not check.</param>
/// <param name="MostAtOnceForOneUser">The most turns of one user asked about at the same time (Ava promises one).</param>
/// <param name="MostInFlight">The most turns in flight at once, all users together.</param>
public sealed record ResponderStandInStats(long Calls, long AskedAgain, long Refused, int MostAtOnceForOneUser, int MostInFlight);

[JsonSerializable(typeof(ResponderStandInStats))]
internal sealed partial class ResponderStandInJsonContext : JsonSerializerContext;
