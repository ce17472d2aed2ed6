using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Ava.AppHost.WhatsApp;
using Ava.WhatsApp.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// Acknowledgement latency of POST /webhook: sequential requests, each waiting for the delivery to be stored durably
// (Postgres with fsync, as in production). Baseline: GET /alive on the same service, same client, same run —
// the cost of an HTTP round trip through the stack with no work behind it.
var requests = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
const int Warmup = 100;

Console.WriteLine($"Starting the stack (durable Postgres, one webhook instance)...");
var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Ava_AppHost>(
    ["--Ava:ThrowawayData=true", "--Ava:DurablePostgres=true"]);
builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning).AddFilter("System.Net.Http", LogLevel.Warning));
foreach (var project in builder.Resources.OfType<ProjectResource>())
{
    builder.CreateResourceBuilder(project).WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", "");
}

await using var app = await builder.BuildAsync();
await app.StartAsync();
await app.ResourceNotifications.WaitForResourceHealthyAsync("webhookapi");
await app.ResourceNotifications.WaitForResourceHealthyAsync(WhatsAppCloudApiExtensions.SimulatorName);

var appSecret = await app.Services.GetRequiredService<DistributedApplicationModel>().Resources
    .OfType<ParameterResource>().Single(p => p.Name == WhatsAppCloudApiExtensions.AppSecretParameter)
    .GetValueAsync(default) ?? throw new InvalidOperationException("No app secret.");
using var client = app.CreateHttpClient("webhookapi");

async Task Alive() => (await client.GetAsync("/alive")).EnsureSuccessStatusCode().Dispose();

async Task Post()
{
    var phone = "1555" + Random.Shared.Next(0, 10_000_000).ToString("D7", CultureInfo.InvariantCulture);
    var body = WebhookNotifications.Serialize(WebhookNotifications.Messages(
        WhatsAppCloudApiExtensions.SimulatedPhoneNumberId,
        WebhookNotifications.Text(phone, "benchmark", $"wamid.BENCH{Guid.NewGuid():N}", DateTimeOffset.UtcNow)));
    using var content = new ByteArrayContent(body);
    content.Headers.ContentType = new("application/json");
    content.Headers.Add(WebhookSignature.HeaderName, WebhookSignature.Compute(appSecret, body));
    (await client.PostAsync("/webhook", content)).EnsureSuccessStatusCode().Dispose();
}

async Task<double[]> Measure(Func<Task> call, int count)
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

    Array.Sort(timings);
    return timings;
}

static double Percentile(double[] sorted, double p) => sorted[(int)Math.Clamp(Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

var baseline = await Measure(Alive, requests);
var webhook = await Measure(Post, requests);

Console.WriteLine();
Console.WriteLine($"{requests} sequential requests each, after {Warmup} warm-up requests (milliseconds)");
Console.WriteLine($"{"",-34}{"p50",8}{"p95",8}{"p99",8}");
foreach (var (name, timings) in new[] { ("baseline GET /alive", baseline), ("POST /webhook (stored, acked)", webhook) })
{
    Console.WriteLine($"{name,-34}{Percentile(timings, 50),8:F2}{Percentile(timings, 95),8:F2}{Percentile(timings, 99),8:F2}");
}

Console.WriteLine($"ratio POST/baseline at p50: {Percentile(webhook, 50) / Percentile(baseline, 50):F2}");
