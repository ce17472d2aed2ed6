using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Ava.WhatsApp.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Ava.Benchmarks;

/// <summary>
/// Plays Meta's Graph API send endpoint inside the benchmark process, as cheaply as possible so that the machine's
/// CPU goes to Ava: <c>POST /{version}/{phone-number-id}/messages</c> checks the bearer token, reads the message and
/// accepts it with a new wamid (or counts a read receipt), and <c>GET /{version}/{phone-number-id}</c> answers Ava's
/// access token check. Every echo of a benchmark message (<c>[Echo] bench 123</c>) is logged by its number
/// and arrival time, which is what the pipeline figures (sent/s, lag, lost, duplicated) are made of. It can also play
/// a Graph API outage (<see cref="Fail"/>), keep a journal of every send with the connection it came over, and serve
/// the load's media (<see cref="Media"/>) as Meta does: <c>GET /{version}/{media-id}</c> for a URL, then the bytes there.
/// </summary>
public sealed class GraphStandIn : IAsyncDisposable
{
    /// <summary>The text of benchmark message n is this prefix and n; Ava's echo carries it back.</summary>
    public const string TextPrefix = "bench ";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<GraphSendRecord>? _journal;
    private string? _expectedAuthorization;
    private GraphFailure[]? _failures;
    private long _failed;
    private long _wamids;
    private long _unrecognised;
    private long _otherCalls;
    private long _refused;
    private long _lastSendAt;
    private long _mediaLookups;
    private long _mediaDownloads;
    private long _mediaBytesServed;

    private GraphStandIn(WebApplication app, bool journal)
    {
        _app = app;
        _journal = journal ? new ConcurrentQueue<GraphSendRecord>() : null;
    }

    /// <summary>Each benchmark message's echo: when it first arrived and how often.</summary>
    public SequenceLog Sends { get; } = new();

    /// <summary>Text sends that carry no benchmark number (e.g. the registration message to an unlinked sender).</summary>
    public long Unrecognised => Interlocked.Read(ref _unrecognised);

    /// <summary>Graph calls that send no text: the read receipts with their typing indicator.</summary>
    public long OtherCalls => Interlocked.Read(ref _otherCalls);

    /// <summary>Calls answered 401 or 400.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Calls answered with a failure played on purpose (<see cref="Fail"/>).</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Every accepted benchmark send in arrival order, when started with a journal; empty otherwise.</summary>
    public IReadOnlyCollection<GraphSendRecord> Journal => _journal ?? [];

    /// <summary>Stopwatch timestamp of the last text send, 0 before the first.</summary>
    public long LastSendAt => Interlocked.Read(ref _lastSendAt);

    public Uri BaseUrl => new(_app.Urls.Single());

    /// <summary>The media the load's messages carry, served to Ava; null: none.</summary>
    public BenchmarkMedia? Media { get; set; }

    /// <summary>Media ids Ava looked up for a download URL.</summary>
    public long MediaLookups => Interlocked.Read(ref _mediaLookups);

    /// <summary>Media downloads answered, and the bytes sent in them.</summary>
    public long MediaDownloads => Interlocked.Read(ref _mediaDownloads);

    public long MediaBytesServed => Interlocked.Read(ref _mediaBytesServed);

    /// <summary>
    /// Told of every accepted text send (business number, wamid, recipient, callback data), e.g. to report its status
    /// as Meta would; null: nothing is.
    /// </summary>
    public Action<string, string, string, string?>? Accepted { get; set; }

    /// <summary>The access token Ava must present; until it is set every call is refused.</summary>
    public string AccessToken
    {
        set => Volatile.Write(ref _expectedAuthorization, "Bearer " + value);
    }

    /// <param name="journal">Keep every send (<see cref="Journal"/>): fine at a fault test's rates, a cost at a load test's.</param>
    public static async Task<GraphStandIn> StartAsync(bool journal = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var standIn = new GraphStandIn(app, journal);
        app.MapPost("/{version}/{phoneNumberId}/messages", standIn.HandleSendAsync);
        app.MapGet("/{version}/{phoneNumberId}", standIn.HandleTokenCheckAsync);
        app.MapGet("/media/{mediaId}", standIn.HandleMediaDownloadAsync);
        await app.StartAsync();
        return standIn;
    }

    /// <summary>
    /// Answers every call that passes the token check with these failures in turn, until <see cref="Recover"/>, as
    /// Meta's API does in an outage: nothing is accepted meanwhile.
    /// </summary>
    public void Fail(params GraphFailure[] failures)
    {
        ArgumentOutOfRangeException.ThrowIfZero(failures.Length);
        Volatile.Write(ref _failures, failures);
    }

    public void Recover() => Volatile.Write(ref _failures, null);

    private async Task HandleSendAsync(HttpContext context, string phoneNumberId)
    {
        var arrivedAt = Stopwatch.GetTimestamp();
        if (context.Request.Headers.Authorization != Volatile.Read(ref _expectedAuthorization))
        {
            await RefuseAsync(context, HttpStatusCode.Unauthorized, 190, "Invalid OAuth access token - Cannot parse access token", "OAuthException");
            return;
        }

        if (Volatile.Read(ref _failures) is { } failures)
        {
            var failure = failures[(Interlocked.Increment(ref _failed) - 1) % failures.Length];
            if (failure.RetryAfter is { } retryAfter)
            {
                context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            }

            context.Response.StatusCode = (int)failure.Status;
            await context.Response.WriteAsJsonAsync(
                new GraphErrorResponse(new GraphError(failure.Message, "OAuthException", failure.Code, null, null, "BENCHMARK")),
                WhatsAppJsonContext.Default.GraphErrorResponse,
                cancellationToken: context.RequestAborted);
            return;
        }

        SendTextMessageRequest? message;
        try
        {
            message = await JsonSerializer.DeserializeAsync(context.Request.Body, WhatsAppJsonContext.Default.SendTextMessageRequest, context.RequestAborted);
        }
        catch (JsonException)
        {
            await RefuseAsync(context, HttpStatusCode.BadRequest, 100, "Invalid parameter", "OAuthException");
            return;
        }

        if (message?.Text?.Body is not { } text || message.To is not { } to)
        {
            // Meta answers a read receipt or typing indicator with just this.
            Interlocked.Increment(ref _otherCalls);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"success":true}""", context.RequestAborted);
            return;
        }

        if (TryReadNumber(text, out var number))
        {
            Sends.Record(number, arrivedAt);
            _journal?.Enqueue(new GraphSendRecord(number, arrivedAt, context.Connection.RemotePort));
        }
        else
        {
            Interlocked.Increment(ref _unrecognised);
        }

        Interlocked.Exchange(ref _lastSendAt, arrivedAt);
        var wamid = "wamid.BENCH" + Interlocked.Increment(ref _wamids).ToString(CultureInfo.InvariantCulture);
        Accepted?.Invoke(phoneNumberId, wamid, to, message.BizOpaqueCallbackData);
        await context.Response.WriteAsJsonAsync(
            new SendMessageResponse("whatsapp", [new SendMessageContact(to, to)], [new SentMessage(wamid)]),
            WhatsAppJsonContext.Default.SendMessageResponse,
            cancellationToken: context.RequestAborted);
    }

    /// <summary>
    /// Ava checks its access token by reading its business number: any number the token passes is accepted. The same
    /// path with a media id is the media lookup, answered with a URL on this stand-in.
    /// </summary>
    private async Task HandleTokenCheckAsync(HttpContext context, string phoneNumberId)
    {
        if (context.Request.Headers.Authorization != Volatile.Read(ref _expectedAuthorization))
        {
            await RefuseAsync(context, HttpStatusCode.Unauthorized, 190, "Invalid OAuth access token - Cannot parse access token", "OAuthException");
            return;
        }

        if (Media is { } media && BenchmarkMedia.IsMediaId(phoneNumberId))
        {
            Interlocked.Increment(ref _mediaLookups);
            await context.Response.WriteAsJsonAsync(
                new MediaDownloadUrl("whatsapp", new Uri(BaseUrl, "media/" + phoneNumberId).ToString(), media.MimeType, media.Sha256Hex, media.Bytes.Length, phoneNumberId),
                WhatsAppJsonContext.Default.MediaDownloadUrl,
                cancellationToken: context.RequestAborted);
            return;
        }

        await context.Response.WriteAsJsonAsync(
            new BusinessPhoneNumber(phoneNumberId, null, "Ava benchmark"), WhatsAppJsonContext.Default.BusinessPhoneNumber, cancellationToken: context.RequestAborted);
    }

    /// <summary>The bytes behind a media URL, for the access token only, as Meta serves them.</summary>
    private async Task HandleMediaDownloadAsync(HttpContext context, string mediaId)
    {
        if (context.Request.Headers.Authorization != Volatile.Read(ref _expectedAuthorization) || Media is not { } media || !BenchmarkMedia.IsMediaId(mediaId))
        {
            await RefuseAsync(context, HttpStatusCode.NotFound, 100, "Unknown media", "GraphMethodException");
            return;
        }

        context.Response.ContentType = media.MimeType;
        context.Response.ContentLength = media.Bytes.Length;
        await context.Response.Body.WriteAsync(media.Bytes, context.RequestAborted);
        Interlocked.Increment(ref _mediaDownloads);
        Interlocked.Add(ref _mediaBytesServed, media.Bytes.Length);
    }

    private static bool TryReadNumber(string text, out long number)
    {
        var at = text.LastIndexOf(TextPrefix, StringComparison.Ordinal);
        number = 0;
        return at >= 0 && long.TryParse(text.AsSpan(at + TextPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out number);
    }

    private async Task RefuseAsync(HttpContext context, HttpStatusCode status, int code, string message, string type)
    {
        Interlocked.Increment(ref _refused);
        context.Response.StatusCode = (int)status;
        await context.Response.WriteAsJsonAsync(
            new GraphErrorResponse(new GraphError(message, type, code, null, null, "BENCHMARK")),
            WhatsAppJsonContext.Default.GraphErrorResponse,
            cancellationToken: context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>A failure the stand-in answers with while it plays an outage: HTTP status, Meta's code and message, Retry-After.</summary>
public sealed record GraphFailure(HttpStatusCode Status, int Code, string Message, TimeSpan? RetryAfter = null);

/// <summary>One accepted send of a benchmark message: its number, when it arrived, and the sender's local port.</summary>
public readonly record struct GraphSendRecord(long Number, long At, int FromPort);
