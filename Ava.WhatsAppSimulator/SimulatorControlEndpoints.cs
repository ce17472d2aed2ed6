using Ava.WhatsApp.Contracts;
using Ava.WhatsApp.Testing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Ava.WhatsAppSimulator;

/// <summary>How tests and developers drive the simulator: see what Ava sent, make sends fail, deliver webhooks.</summary>
internal static class SimulatorControlEndpoints
{
    public const string WebhookClientName = "ava-webhook";

    public static IEndpointRouteBuilder MapSimulatorControl(this IEndpointRouteBuilder endpoints)
    {
        var simulator = endpoints.MapGroup("/simulator").WithTags("Simulator");

        simulator.MapGet("/sends", (GraphApiState state, string? to) =>
            TypedResults.Ok(state.Sends.Where(s => to is null || s.To == to).ToList()))
            .WithSummary("Every send Ava made, optionally to one recipient.");

        simulator.MapPost("/failures", (InjectedFailure failure, GraphApiState state) =>
        {
            state.Inject(failure);
            return TypedResults.NoContent();
        }).WithSummary("Answer the next sends (to one recipient, or any) with an HTTP status and Meta error code.");

        simulator.MapPost("/deliveries", DeliverRawAsync)
            .WithSummary("Signs the body with the app secret and posts it to Ava's webhook, as Meta would.");

        simulator.MapPost("/messages", DeliverTextAsync)
            .WithSummary("Delivers a text message from a phone to Ava, as Meta would.");

        return endpoints;
    }

    private static async Task<Ok<DeliveryResult>> DeliverRawAsync(HttpRequest request, WebhookDeliverer deliverer)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        return TypedResults.Ok(await deliverer.DeliverAsync(buffer.ToArray(), request.HttpContext.RequestAborted));
    }

    private static async Task<Ok<DeliveryResult>> DeliverTextAsync(
        TextMessageToDeliver message,
        WebhookDeliverer deliverer,
        IOptions<SimulatorOptions> options,
        TimeProvider clock)
    {
        var wamid = $"wamid.SIMIN{Guid.NewGuid():N}";
        var body = WebhookNotifications.Serialize(WebhookNotifications.Messages(
            message.PhoneNumberId ?? options.Value.PhoneNumberId,
            WebhookNotifications.Text(message.From, message.Text, wamid, clock.GetUtcNow())));
        var result = await deliverer.DeliverAsync(body, CancellationToken.None);
        return TypedResults.Ok(result with { Wamid = wamid });
    }
}

/// <summary>A text message from a phone, to deliver to Ava.</summary>
public sealed record TextMessageToDeliver(string From, string Text, string? PhoneNumberId = null);

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
