using Ava.WhatsApp.Contracts;
using Microsoft.Extensions.Options;

namespace Ava.WhatsAppSimulator;

/// <summary>Ava's answer to a delivery.</summary>
public sealed record DeliveryResult(int Status, string Body, string? Wamid = null);

/// <summary>Posts signed deliveries to Ava's webhook.</summary>
public sealed class WebhookDeliverer(IHttpClientFactory httpClients, IOptions<SimulatorOptions> options)
{
    public async Task<DeliveryResult> DeliverAsync(byte[] body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, options.Value.WebhookUrl)
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new("application/json");
        if (options.Value.AppSecret is { Length: > 0 } secret)
        {
            request.Headers.Add(WebhookSignature.HeaderName, WebhookSignature.Compute(secret, body));
        }

        using var response = await httpClients.CreateClient(SimulatorControlEndpoints.WebhookClientName).SendAsync(request, cancellationToken);
        return new DeliveryResult((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }
}
