using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Ava.WebhookApi.WhatsApp.Model;
using Ava.WhatsApp.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Receiving;

/// <summary>Meta's side of Ava: the subscription handshake and the delivery of notifications.</summary>
internal static class WebhookEndpoints
{
    public static IEndpointRouteBuilder MapWhatsAppWebhook(this IEndpointRouteBuilder endpoints)
    {
        // Created now rather than on the first delivery, so that unchecked signatures are warned about at start.
        endpoints.ServiceProvider.GetRequiredService<WebhookSignatureVerifier>();

        var webhook = endpoints.MapGroup("/webhook").WithTags("WhatsApp webhook");

        webhook.MapGet("/", Verify)
            .WithSummary("Meta's verification handshake: echoes hub.challenge when hub.verify_token matches.");

        webhook.MapPost("/", ReceiveAsync)
            .WithSummary("Stores a signed delivery durably, then answers 200 {\"status\":\"ok\"}; processing is asynchronous.")
            .Accepts<WebhookNotification>("application/json")
            .DisableAntiforgery()
            // Bodies are buffered whole before their signature can be checked: bound how many at once.
            .RequireRateLimiting(WebhookProtectionExtensions.DeliveriesPolicy);

        return endpoints;
    }

    internal static Results<ContentHttpResult, ProblemHttpResult> Verify(
        [FromQuery(Name = "hub.mode")] string? mode,
        [FromQuery(Name = "hub.verify_token")] string? verifyToken,
        [FromQuery(Name = "hub.challenge")] string? challenge,
        WebhookSignatureVerifier verifier)
    {
        if (mode != "subscribe" || !verifier.IsVerifyToken(verifyToken))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Verification refused");
        }

        if (!long.TryParse(challenge, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "Invalid challenge",
                detail: "hub.challenge must be an integer.");
        }

        return TypedResults.Text(challenge, "text/plain");
    }

    internal static async Task<Results<Ok<WebhookAcknowledgement>, ProblemHttpResult>> ReceiveAsync(
        HttpRequest request,
        WebhookSignatureVerifier verifier,
        InboxWriter inbox,
        IOptions<WhatsAppProcessingOptions> options,
        TimeProvider clock)
    {
        var maxBytes = options.Value.MaxDeliveryBytes;
        if (request.ContentLength > maxBytes)
        {
            return TooLarge(maxBytes);
        }

        byte[]? body;
        try
        {
            body = await ReadBodyAsync(request, maxBytes, request.HttpContext.RequestAborted);
        }
        catch (BadHttpRequestException exception)
        {
            // Kestrel gave up on the body (it arrived too slowly, or broken): the sender's fault, not a server error.
            return TypedResults.Problem(
                statusCode: exception.StatusCode,
                title: "Delivery not received",
                detail: "The request body did not arrive completely and in time.");
        }

        if (body is null)
        {
            return TooLarge(maxBytes);
        }

        if (!verifier.IsSignedByMeta(request.Headers[WebhookSignature.HeaderName], body))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Invalid signature",
                detail: $"{WebhookSignature.HeaderName} is missing or does not match the body.");
        }

        try
        {
            await inbox.StoreAsync(new InboundDeliveryRecord(clock.GetUtcNow(), body, Activity.Current?.Id));
        }
        catch (InboxUnavailableException)
        {
            request.HttpContext.Response.Headers.RetryAfter = "30";
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Delivery not stored",
                detail: "Ava could not store the delivery; retry later.");
        }

        return TypedResults.Ok(WebhookAcknowledgement.Ok);
    }

    /// <returns>The body, or null when it is longer than <paramref name="maxBytes"/>.</returns>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            if (result.Buffer.Length > maxBytes)
            {
                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                return null;
            }

            if (result.IsCompleted)
            {
                var body = result.Buffer.ToArray();
                reader.AdvanceTo(result.Buffer.End);
                return body;
            }

            // Nothing consumed yet: ask for more until the whole body is buffered.
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static ProblemHttpResult TooLarge(int maxBytes) => TypedResults.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Delivery too large",
        detail: $"A delivery may be at most {maxBytes} bytes.");
}

/// <summary>The webhook's answer to Meta: <c>{"status":"ok"}</c>.</summary>
internal sealed record WebhookAcknowledgement(string Status)
{
    public static readonly WebhookAcknowledgement Ok = new("ok");
}
