using System.Globalization;
using System.Net.Http.Headers;
using System.Threading.Channels;
using Ava.WhatsApp.Contracts;
using Ava.WhatsApp.Testing;

namespace Ava.Benchmarks;

/// <summary>
/// Meta's statuses for the sends the stand-in accepted: a second after each send, a signed <c>sent</c> status
/// carrying the send's <c>biz_opaque_callback_data</c> is delivered to the webhook, as Meta does, and delivered again
/// until it is acknowledged. This is what lets Ava record a send whose sender died before recording it; without it a
/// fault test would see every such send repeated. Statuses due together for one business number share a delivery.
/// </summary>
public sealed class MetaStatusReporter : IAsyncDisposable
{
    private static readonly TimeSpan s_delay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromSeconds(2);
    private const int MaxPerDelivery = 50;

    private readonly HttpClient _client;
    private readonly string _appSecret;
    private readonly Channel<PendingStatus> _pending = Channel.CreateUnbounded<PendingStatus>();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _delivering;
    private long _reported;
    private long _acknowledged;
    private long _refused;

    public MetaStatusReporter(HttpClient client, string appSecret)
    {
        _client = client;
        _appSecret = appSecret;
        _delivering = Task.Run(DeliverAsync);
    }

    /// <summary>Statuses reported (one per accepted send).</summary>
    public long Reported => Interlocked.Read(ref _reported);

    /// <summary>Statuses the webhook acknowledged.</summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    /// <summary>Deliveries of statuses that got no 2xx (and were sent again).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public void Report(string phoneNumberId, string wamid, string recipient, string? callbackData)
    {
        Interlocked.Increment(ref _reported);
        _pending.Writer.TryWrite(new PendingStatus(phoneNumberId, wamid, recipient, callbackData, DateTimeOffset.UtcNow + s_delay));
    }

    private async Task DeliverAsync()
    {
        var reader = _pending.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token))
            {
                var due = new List<PendingStatus>();
                while (due.Count < MaxPerDelivery && reader.TryPeek(out var next) && next.DueAt <= DateTimeOffset.UtcNow)
                {
                    due.Add(await reader.ReadAsync(_stopping.Token));
                }

                if (due.Count == 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _stopping.Token);
                    continue;
                }

                foreach (var group in due.GroupBy(s => s.PhoneNumberId))
                {
                    _ = DeliverAsync(group.Key, [.. group]);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task DeliverAsync(string phoneNumberId, PendingStatus[] statuses)
    {
        var at = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var body = WebhookNotifications.Serialize(WebhookNotifications.Statuses(
            phoneNumberId,
            [.. statuses.Select(s => new WebhookStatus(s.Wamid, "sent", at, s.Recipient, null, s.CallbackData))]));
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.Add(WebhookSignature.HeaderName, WebhookSignature.Compute(_appSecret, body));
        try
        {
            using var response = await _client.PostAsync("/webhook", content, _stopping.Token);
            if (response.IsSuccessStatusCode)
            {
                Interlocked.Add(ref _acknowledged, statuses.Length);
                return;
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException
            || (exception is TaskCanceledException && !_stopping.IsCancellationRequested))
        {
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return;
        }

        // As Meta does, a status that was not acknowledged is delivered again later.
        Interlocked.Increment(ref _refused);
        foreach (var status in statuses)
        {
            _pending.Writer.TryWrite(status with { DueAt = DateTimeOffset.UtcNow + s_retryDelay });
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _delivering;
        _stopping.Dispose();
    }

    private sealed record PendingStatus(string PhoneNumberId, string Wamid, string Recipient, string? CallbackData, DateTimeOffset DueAt);
}
