using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ava.AppHost;

/// <summary>
/// A service's health in the dashboard as the service reports it: Healthy, Degraded or Unhealthy. Aspire's HTTP
/// health check only compares the status code, and a degraded service answers 200 (it is still to be routed to), so
/// the dashboard showed a webhook whose access token Meta refuses as healthy.
/// </summary>
public static class HealthStatusCheckExtensions
{
    /// <summary>
    /// Polls <paramref name="path"/> on the service's http endpoint and reports the status word it answers. A degraded
    /// service shows Degraded in the dashboard; note that resources waiting for it to be healthy wait on meanwhile.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithHealthStatusCheck(this IResourceBuilder<ProjectResource> service, string path)
    {
        var endpoint = service.GetEndpoint("http");
        Uri? uri = null;
        service.OnBeforeResourceStarted((_, _, _) =>
        {
            uri = new Uri(new Uri(endpoint.Url, UriKind.Absolute), path);
            return Task.CompletedTask;
        });

        var key = $"{service.Resource.Name}_{path}_status_check";
        service.ApplicationBuilder.Services.AddHttpClient(key);
        service.ApplicationBuilder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            key,
            services => new HealthStatusCheck(
                services.GetRequiredService<IHttpClientFactory>().CreateClient(key),
                () => uri ?? throw new InvalidOperationException($"{service.Resource.Name} has not started: its endpoint is not allocated yet.")),
            failureStatus: HealthStatus.Unhealthy,
            tags: null));

        return service.WithHealthCheck(key);
    }

    /// <summary>What a service's status word and code say of its health; anything but Healthy or Degraded with 200 is unhealthy.</summary>
    internal static HealthCheckResult Read(HttpStatusCode status, string body) => (status, body.Trim()) switch
    {
        (HttpStatusCode.OK, nameof(HealthStatus.Healthy)) => HealthCheckResult.Healthy(),
        (HttpStatusCode.OK, nameof(HealthStatus.Degraded)) => HealthCheckResult.Degraded(
            "The service reports itself degraded; its log says why (for the webhook: the Graph API refuses the access token)."),
        _ => HealthCheckResult.Unhealthy($"The service answered {(int)status} {body.Trim()}"),
    };

    private sealed class HealthStatusCheck(HttpClient client, Func<Uri> uri) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                using var response = await client.GetAsync(uri(), cancellationToken);
                return Read(response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
            }
            catch (HttpRequestException exception)
            {
                return HealthCheckResult.Unhealthy("The service does not answer.", exception);
            }
        }
    }
}
