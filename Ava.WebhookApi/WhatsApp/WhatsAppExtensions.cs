using Ava.WebhookApi.WhatsApp.Processing;
using Ava.WebhookApi.WhatsApp.Receiving;
using Ava.WebhookApi.WhatsApp.Sending;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Ava.WebhookApi.WhatsApp;

internal static class WhatsAppExtensions
{
    /// <summary>Receiving (verification, signed deliveries into the inbox), processing and sending.</summary>
    public static IHostApplicationBuilder AddWhatsApp(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;

        // The plan's WHATSAPP_* variables sit at the root of configuration.
        services.AddOptions<WhatsAppOptions>().Bind(builder.Configuration).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WhatsAppOptions>, WhatsAppOptionsValidator>();
        services.AddOptions<WhatsAppProcessingOptions>()
            .Bind(builder.Configuration.GetSection(WhatsAppProcessingOptions.SectionName))
            .ValidateOnStart();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<WhatsAppTelemetry>();
        services.AddSingleton<InboxSignal>();
        services.AddSingleton<OutboxSignal>();

        // Receiving
        services.AddSingleton<WebhookSignatureVerifier>();
        services.AddSingleton<InboxSpool>();
        services.AddSingleton<InboxWriter>();
        services.AddHostedService(provider => provider.GetRequiredService<InboxWriter>());
        services.AddSingleton<InboxSpoolDrainer>();
        services.AddHostedService(provider => provider.GetRequiredService<InboxSpoolDrainer>());
        services.AddHealthChecks().AddCheck<InboxSpoolDrainer>("inbox-spool");

        // Processing
        services.AddSingleton<LinkedUserLookup>();
        services.AddSingleton<PhoneLinking>();
        services.AddHostedService<DeliveryProcessor>();

        // Sending: a timeout and a circuit breaker, but no automatic retry (see GraphApiClient).
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked for evaluation; dropping the default retry is the point.
        services.AddHttpClient<GraphApiClient>((provider, http) =>
            {
                var baseUrl = provider.GetRequiredService<IOptions<WhatsAppOptions>>().Value.GraphBaseUrl.ToString();
                http.BaseAddress = new Uri(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/");
            })
            .RemoveAllResilienceHandlers()
            .AddResilienceHandler("graph-send", pipeline => pipeline
                .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions())
                .AddTimeout(TimeSpan.FromSeconds(15)));
#pragma warning restore EXTEXP0001
        services.AddHostedService<ReplySender>();

        return builder;
    }
}
