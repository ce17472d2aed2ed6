using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Hosting;

namespace Ava.Tests.Integration;

/// <summary>
/// What strangers can occupy on POST /webhook before any signature is checked: slow senders are cut off, and only a
/// bounded number of bodies is buffered at once; beyond a bounded queue, deliveries are refused so that Meta retries.
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class WebhookProtectionTests(AvaStackFixture stack)
{
    /// <summary>Longer than Ava's limits (10 s for headers, 5 s of grace for a body), shorter than Kestrel's defaults.</summary>
    private static readonly TimeSpan s_cutOffPatience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_sender_that_trickles_its_body_is_cut_off()
    {
        // 1 KB a second: above Kestrel's default minimum (240 bytes/s), which would wait a minute for this body.
        const string head = "POST /webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 65536\r\n\r\n";

        var (answer, elapsed) = await TrickleAsync(head, Encoding.ASCII.GetBytes(new string(' ', 1024)));

        AssertCutOff(answer, elapsed);
    }

    [Fact]
    public async Task A_sender_that_trickles_its_headers_is_cut_off()
    {
        var (answer, elapsed) = await TrickleAsync("POST /webhook HTTP/1.1\r\nHost: localhost\r\n", "X-Slow: 1\r\n"u8.ToArray());

        AssertCutOff(answer, elapsed);
    }

    [Fact]
    public async Task Deliveries_beyond_the_bound_and_its_queue_are_refused_with_503_and_Retry_After()
    {
        await using var webhook = await InProcessWebhook.CreateAsync(stack, Environments.Development, new Dictionary<string, string>
        {
            ["WhatsApp:MaxConcurrentDeliveries"] = "1",
            ["WhatsApp:MaxQueuedDeliveries"] = "1",
        });
        using var client = webhook.CreateClient();
        var bodiesArrive = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Three deliveries whose bodies have not arrived: one is being read, one waits its turn, one is too many.
        var deliveries = Enumerable.Range(0, 3).Select(_ => PostAsync(client, new HeldBackBody(bodiesArrive.Task))).ToList();
        var first = await Task.WhenAny(deliveries).WaitAsync(s_cutOffPatience, TestContext.Current.CancellationToken);

        using (var refused = await first)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }

        // The other two are read in turn once their bodies arrive, and judged on their (missing) signature.
        bodiesArrive.SetResult();
        foreach (var delivery in deliveries.Where(delivery => delivery != first))
        {
            using var response = await delivery.WaitAsync(s_cutOffPatience, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Theory]
    [InlineData("WhatsApp:AllowUnsignedDeliveries", "true", "WhatsApp:AllowUnsignedDeliveries=true is allowed in Development only")]
    [InlineData("WHATSAPP_GRAPH_BASE_URL", "http://graph.facebook.com", "WHATSAPP_GRAPH_BASE_URL must be https outside Development")]
    public async Task Outside_Development_the_webhook_refuses_to_start_with_a_relaxed_check(string key, string value, string reason)
    {
        await using var webhook = await InProcessWebhook.CreateAsync(
            stack, Environments.Production, new Dictionary<string, string> { [key] = value });

        var refusal = Record.Exception(webhook.Start);

        Assert.NotNull(refusal);
        Assert.Contains(reason, refusal.ToString(), StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, HttpContent body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook") { Content = body };
        return await client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// Sends <paramref name="head"/>, then <paramref name="drip"/> every second, until the webhook answers or closes
    /// the connection, or the patience is over (then the answer is null: the sender was never cut off).
    /// </summary>
    private async Task<(string? Answer, TimeSpan Elapsed)> TrickleAsync(string head, byte[] drip)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var endpoint = stack.App.GetEndpoint("webhookapi", "http");
        using var connection = new TcpClient();
        await connection.ConnectAsync(endpoint.Host, endpoint.Port, cancellationToken);
        var stream = connection.GetStream();
        var started = Stopwatch.GetTimestamp();

        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken);
        var buffer = new byte[512];
        var answer = stream.ReadAsync(buffer, cancellationToken).AsTask();
        while (!answer.IsCompleted && Stopwatch.GetElapsedTime(started) < s_cutOffPatience)
        {
            await Task.WhenAny(answer, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken));
            try
            {
                await stream.WriteAsync(drip, cancellationToken);
            }
            catch (IOException)
            {
                // Closed by the server; the answer, if any, is in the read.
                break;
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        await Task.WhenAny(answer, Task.Delay(TimeSpan.FromSeconds(2), cancellationToken));
        if (!answer.IsCompleted)
        {
            return (null, elapsed);
        }

        try
        {
            return (Encoding.ASCII.GetString(buffer, 0, await answer), elapsed);
        }
        catch (IOException)
        {
            return ("", elapsed);
        }
    }

    /// <summary>Cut off in time: answered 408 Request Timeout, or simply disconnected.</summary>
    private static void AssertCutOff(string? answer, TimeSpan elapsed)
    {
        Assert.True(answer is not null, $"Still connected after {elapsed.TotalSeconds:F0} s.");
        if (answer.Length > 0)
        {
            Assert.StartsWith("HTTP/1.1 408", answer, StringComparison.Ordinal);
        }
    }

    /// <summary>A delivery body that arrives only when the test lets it.</summary>
    private sealed class HeldBackBody(Task arrival) : HttpContent
    {
        private static readonly byte[] s_body = """{"object":"whatsapp_business_account","entry":[]}"""u8.ToArray();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await arrival;
            await stream.WriteAsync(s_body);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = s_body.Length;
            return true;
        }
    }
}
