using Ava.Data.Media;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Media;
using Ava.WebhookApi.WhatsApp.Processing;
using Ava.WebhookApi.WhatsApp.Receiving;
using Ava.WebhookApi.WhatsApp.Replay;
using Ava.WebhookApi.WhatsApp.Responding;
using Ava.WebhookApi.WhatsApp.Retention;
using Ava.WebhookApi.WhatsApp.Sending;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;

namespace Ava.WebhookApi.WhatsApp;

internal static class WhatsAppExtensions
{
    /// <summary>Receiving (verification, signed deliveries into the inbox), processing and sending.</summary>
    public static IHostApplicationBuilder AddWhatsApp(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;

        // The plan's WHATSAPP_* variables sit at the root of configuration.
        services.AddOptions<WhatsAppCloudApiOptions>().Bind(builder.Configuration).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WhatsAppCloudApiOptions>, WhatsAppCloudApiOptionsValidator>();
        services.AddOptions<WhatsAppProcessingOptions>()
            .Bind(builder.Configuration.GetSection(WhatsAppProcessingOptions.SectionName))
            .Validate(settings => settings.Problem() is null, "WhatsApp processing settings do not hold together (see WhatsAppProcessingOptions.Problem).")
            .ValidateOnStart();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<WhatsAppTelemetry>();

        // Each stage's queue: rows claimed with short leases, renewed while work is in hand.
        services.AddSingleton<DatabaseOutage>();
        services.AddSingleton<InboxQueue>();
        services.AddSingleton<ILeasedQueue>(provider => provider.GetRequiredService<InboxQueue>());
        services.AddSingleton<OutboxQueue>();
        services.AddSingleton<ILeasedQueue>(provider => provider.GetRequiredService<OutboxQueue>());
        services.AddSingleton(provider => new TurnQueue(
            provider.GetRequiredService<NpgsqlDataSource>(),
            provider.GetRequiredService<DatabaseOutage>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<IOptions<WhatsAppProcessingOptions>>(),
            () => provider.GetRequiredService<IOptions<ResponderOptions>>().Value.MaxConcurrentTurns));
        services.AddSingleton<ILeasedQueue>(provider => provider.GetRequiredService<TurnQueue>());
        services.AddSingleton<MediaQueue>();
        services.AddSingleton<ILeasedQueue>(provider => provider.GetRequiredService<MediaQueue>());
        services.AddHostedService<ClaimLeaseRenewer>();
        services.AddSingleton<GraphRecovery>();

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
        services.AddSingleton<WhatsAppLinking>();
        services.AddSingleton<RegistrationReplyThrottle>();
        services.AddSingleton<BusinessNumbers>();
        services.AddSingleton<DeliveryBatchProcessor>();
        services.AddHostedService<DeliveryProcessor>();

        // Sending: a timeout and a circuit breaker on the Graph API, but no automatic retry (see GraphApiClient).
        services.AddSingleton<SenderPresence>();
        services.AddHostedService(provider => provider.GetRequiredService<SenderPresence>());
        services.AddSingleton(provider => new SendPacer(
            provider.GetRequiredService<TimeProvider>(),
            () => provider.GetRequiredService<SenderPresence>().ActiveSenders,
            provider.GetRequiredService<IOptions<WhatsAppProcessingOptions>>()));
        services.AddSingleton<GraphApiClient>();
        services.AddSingleton<AccessTokenMonitor>();
        services.AddHostedService(provider => provider.GetRequiredService<AccessTokenMonitor>());
        services.AddHealthChecks().AddCheck<AccessTokenMonitor>("whatsapp-access-token");
        services.AddSingleton<ReadReceipts>();
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked for evaluation; dropping the default retry is the point.
        services.AddHttpClient(GraphApiClient.HttpClientName, (provider, http) =>
            {
                var baseUrl = provider.GetRequiredService<IOptions<WhatsAppCloudApiOptions>>().Value.GraphBaseUrl.ToString();
                http.BaseAddress = new Uri(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/");
            })
            .RemoveAllResilienceHandlers()
            .AddResilienceHandler("graph-send", (pipeline, context) =>
            {
                var settings = context.ServiceProvider.GetRequiredService<IOptions<WhatsAppProcessingOptions>>().Value;
                pipeline
                    .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
                    {
                        // Meta's rate limits (429) are one number's business; only a failing Graph API opens the circuit,
                        // not a read receipt Ava stopped waiting for.
                        ShouldHandle = arguments => ValueTask.FromResult(
                            arguments.Outcome.Exception is not (null or OperationCanceledException)
                            || (int?)arguments.Outcome.Result?.StatusCode >= 500),
                    })
                    .AddTimeout(settings.GraphSendTimeout);
            });
#pragma warning restore EXTEXP0001
        services.AddSingleton<ReplyOutcomeRecorder>();
        services.AddSingleton<RecoveryResume>();
        services.AddSingleton<ClaimedReplySender>();
        services.AddHostedService<ReplySender>();

        // Composing: a responder answers linked users when one is configured (WhatsApp:Responder), in its own stage
        // between processing and sending, so that a slow one holds up nobody else. No automatic retry on the call:
        // the composer retries, within the user's window.
        services.AddOptions<ResponderOptions>()
            .Bind(builder.Configuration.GetSection(ResponderOptions.SectionName))
            .Validate(settings => settings.Problem() is null, "WhatsApp responder settings do not hold together (see ResponderOptions.Problem).")
            .ValidateOnStart();
        services.AddSingleton<ResponderClient>();
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked for evaluation; the composer owns retries and timeouts.
        services.AddHttpClient(ResponderClient.HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        services.AddSingleton<TurnEndingRecorder>();
        services.AddSingleton<TypingIndicator>();
        services.AddSingleton<ClaimedTurnComposer>();
        services.AddHostedService<TurnComposer>();

        // Keeping media: linked users' photos, voice notes, videos, documents and stickers are downloaded in a stage of
        // their own, after the acknowledgement, and kept in the media store (Postgres by default). No automatic retry
        // on the calls and no timeout but the download's own: the downloader retries, for as long as Meta keeps the media.
        services.AddOptions<MediaOptions>()
            .Bind(builder.Configuration.GetSection(MediaOptions.SectionName))
            .Validate(settings => settings.Problem() is null, "WhatsApp media settings do not hold together (see MediaOptions.Problem).")
            .ValidateOnStart();
        services.AddSingleton<IMediaStore, PostgresMediaStore>();
        services.AddSingleton<MediaWritePacer>();
        services.AddSingleton<MediaFetcher>();
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked for evaluation; the downloader owns retries and timeouts.
        services.AddHttpClient(MediaFetcher.HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false })
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        services.AddHostedService<MediaDownloader>();

        // What failed for good can be listed and replayed by an operator (see Admin/).
        services.AddSingleton<FailedWorkReplay>();

        // Raw deliveries and dedup records are kept for a configurable period, then purged.
        services.AddHostedService<DeliveryRetentionService>();

        return builder;
    }
}
