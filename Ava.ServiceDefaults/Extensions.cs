using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Primitives;
using OpenTelemetry;
using OpenTelemetry.Instrumentation.AspNetCore;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every Ava service shares: telemetry to the dashboard, health checks, security headers, service discovery
/// and resilient HttpClients. Each service calls <see cref="AddServiceDefaults{TBuilder}"/> first and
/// <see cref="MapDefaultEndpoints"/> last.
/// </summary>
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";

    /// <summary>Activity sources and meters of Ava's own code start with this prefix.</summary>
    public const string TelemetryPrefix = "Ava.";

    private const string LiveTag = "live";

    /// <summary>
    /// How long <c>/health</c> reuses its last answer. Healthy (or degraded) holds longer; unhealthy is asked again
    /// soon, so that a service waited for at start is seen healthy at most a second after it is.
    /// </summary>
    public static readonly TimeSpan HealthyResultLifetime = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan UnhealthyResultLifetime = TimeSpan.FromSeconds(1);

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureLogging();
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddTransient<IStartupFilter, SecurityHeaders>();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        return builder;
    }

    private static TBuilder ConfigureLogging<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // Errors go to stderr so that the dashboard, CI logs and container runtimes flag them as errors.
        builder.Services.Configure<ConsoleLoggerOptions>(options => options.LogToStandardErrorThreshold = LogLevel.Error);
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(TelemetryPrefix + "*"))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(TelemetryPrefix + "*")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddProcessor<IdleWorkTraceFilter>());

        builder.ExcludeFromTracing(request =>
            request.Path.StartsWithSegments(HealthEndpointPath) || request.Path.StartsWithSegments(AlivenessEndpointPath));

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// Keeps the requests <paramref name="untraced"/> picks out of the traces: requests made over and over (probes, a
    /// page's polling) would drown the traces of real work. A service adds its own; each call keeps what the others
    /// keep out.
    /// </summary>
    public static TBuilder ExcludeFromTracing<TBuilder>(this TBuilder builder, Func<HttpRequest, bool> untraced)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.Configure<AspNetCoreTraceInstrumentationOptions>(options =>
        {
            var traced = options.Filter;
            options.Filter = context => !untraced(context.Request) && (traced is null || traced(context));
        });
        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);

        return builder;
    }

    /// <summary>
    /// <c>/health</c> runs every check (the process and each dependency it registered: Postgres, Redis);
    /// <c>/alive</c> only says the process answers. Both are served in every environment: orchestrators and load
    /// balancers need them in production, and they reveal nothing but a status word. Being public, <c>/health</c>
    /// answers from a shared, short-lived result (<see cref="HealthyResultLifetime"/>), so that a flood of anonymous
    /// probes costs the databases one check per period, not one per request.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        var sharedChecks = new SharedHealthReport(
            app.Services.GetRequiredService<HealthCheckService>(), app.Services.GetService<TimeProvider>() ?? TimeProvider.System);
        IEndpointRouteBuilder endpoints = app;
        var health = endpoints.CreateApplicationBuilder()
            .UseMiddleware<HealthCheckMiddleware>(Options.Options.Create(new HealthCheckOptions()), sharedChecks)
            .Build();
        app.Map(HealthEndpointPath, health).WithDisplayName("Health checks");

        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(LiveTag),
        });

        return app;
    }

    /// <summary>
    /// The checks behind <c>/health</c>, run once per period however many callers ask; callers that arrive while a
    /// run is under way wait for that run. Only <c>/health</c> uses it: the predicate of the first caller holds.
    /// </summary>
    private sealed class SharedHealthReport(HealthCheckService checks, TimeProvider time) : HealthCheckService
    {
        private readonly Lock _lock = new();
        private Task<HealthReport>? _report;
        private long _freshUntil;

        public override Task<HealthReport> CheckHealthAsync(
            Func<HealthCheckRegistration, bool>? predicate, CancellationToken cancellationToken = default)
        {
            Task<HealthReport> report;
            lock (_lock)
            {
                if (_report is null || (_report.IsCompleted && (!_report.IsCompletedSuccessfully || time.GetTimestamp() >= Volatile.Read(ref _freshUntil))))
                {
                    _report = RunAsync(predicate);
                }

                report = _report;
            }

            return report.WaitAsync(cancellationToken);
        }

        private async Task<HealthReport> RunAsync(Func<HealthCheckRegistration, bool>? predicate)
        {
            // Out of the caller's lock before any check runs.
            await Task.Yield();

            // Not a caller's token: the run is shared, and one caller hanging up must not fail it for the others.
            var report = await checks.CheckHealthAsync(predicate, CancellationToken.None);
            var lifetime = report.Status == HealthStatus.Unhealthy ? UnhealthyResultLifetime : HealthyResultLifetime;
            Volatile.Write(ref _freshUntil, time.GetTimestamp() + (long)(lifetime.TotalSeconds * time.TimestampFrequency));
            return report;
        }
    }

    /// <summary>
    /// Headers on every response of a service, set where the response starts so that error pages written after a
    /// reset of the response keep them too. The values are allocated once.
    /// </summary>
    private sealed class SecurityHeaders(IHostEnvironment environment) : IStartupFilter
    {
        private static readonly StringValues s_noSniff = "nosniff";
        private static readonly StringValues s_noReferrer = "no-referrer";
        private static readonly StringValues s_deny = "DENY";

        /// <summary>An API response is data, never a document: it may load nothing and be framed nowhere.</summary>
        private static readonly StringValues s_apiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";

        /// <summary>A year; only browsers that reached the service over https take note of it.</summary>
        private static readonly StringValues s_strictTransportSecurity = "max-age=31536000";

        private static readonly Func<object, Task> s_addHeaders = state => AddHeaders((HttpContext)state, hsts: false);
        private static readonly Func<object, Task> s_addHeadersWithHsts = state => AddHeaders((HttpContext)state, hsts: true);

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
        {
            // Development is plain http on localhost, where HSTS would pin a developer's browser to https.
            var addHeaders = environment.IsDevelopment() ? s_addHeaders : s_addHeadersWithHsts;
            return app =>
            {
                app.Use((context, nextMiddleware) =>
                {
                    context.Response.OnStarting(addHeaders, context);
                    return nextMiddleware(context);
                });
                next(app);
            };
        }

        private static Task AddHeaders(HttpContext context, bool hsts)
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = s_noSniff;
            headers["Referrer-Policy"] = s_noReferrer;
            headers.XFrameOptions = s_deny;

            // Pages (the API reference in Development, the simulator's chat) bring their own scripts and styles.
            if (context.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) != true)
            {
                headers.ContentSecurityPolicy = s_apiContentSecurityPolicy;
            }

            if (hsts)
            {
                headers.StrictTransportSecurity = s_strictTransportSecurity;
            }

            return Task.CompletedTask;
        }
    }
}
