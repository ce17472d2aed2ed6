using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Receiving;

/// <summary>
/// Bounds what unauthenticated senders can occupy on POST /webhook — memory for bodies not yet verified,
/// connections held by slow senders — without adding work to the acknowledgement path.
/// </summary>
internal static class WebhookProtectionExtensions
{
    public const string DeliveriesPolicy = "webhook-deliveries";

    /// <summary>Meta sends its whole request at once; a client still sending headers after this is not Meta.</summary>
    private static readonly TimeSpan s_requestHeadersTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan s_bodyGracePeriod = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Kestrel reads ahead of the application up to this much per connection (default 1 MB). Waiting deliveries
    /// have not been read yet, so this is what each of them can pin; a delivery being read is not slowed by it.
    /// </summary>
    private const int MaxRequestBufferBytes = 64 * 1024;

    /// <summary>Overload passes quickly; Meta keeps its own retry schedule whatever this says.</summary>
    private const string RetryAfterSeconds = "5";

    public static WebApplicationBuilder AddWebhookProtection(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<WebhookProtectionOptions>()
            .Bind(builder.Configuration.GetSection(WebhookProtectionOptions.SectionName))
            .Validate(options => options.MaxConcurrentDeliveries >= 1, "WhatsApp:MaxConcurrentDeliveries must be at least 1.")
            .Validate(options => options.MaxQueuedDeliveries >= 0, "WhatsApp:MaxQueuedDeliveries must not be negative.")
            .Validate(options => options.MinDeliveryBytesPerSecond > 0, "WhatsApp:MinDeliveryBytesPerSecond must be positive.")
            .ValidateOnStart();

        services.AddOptions<KestrelServerOptions>().Configure<IOptions<WebhookProtectionOptions>>((kestrel, protection) =>
        {
            kestrel.Limits.RequestHeadersTimeout = s_requestHeadersTimeout;
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(protection.Value.MinDeliveryBytesPerSecond, s_bodyGracePeriod);
            kestrel.Limits.MaxRequestBufferSize = MaxRequestBufferBytes;
        });

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<WebhookProtectionOptions>>((limiter, protection) =>
        {
            // 503 rather than 429: Meta retries a 5xx, and the refusal says "busy", not "you sent too much".
            limiter.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
            limiter.OnRejected = static (context, _) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds;
                return ValueTask.CompletedTask;
            };
            limiter.AddConcurrencyLimiter(DeliveriesPolicy, concurrency =>
            {
                concurrency.PermitLimit = protection.Value.MaxConcurrentDeliveries;
                concurrency.QueueLimit = protection.Value.MaxQueuedDeliveries;
                concurrency.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            });
        });

        return builder;
    }

    /// <summary>After the status-code pages, so that a refusal is a problem document like every other error.</summary>
    public static WebApplication UseWebhookProtection(this WebApplication app)
    {
        app.UseRateLimiter();
        return app;
    }
}
