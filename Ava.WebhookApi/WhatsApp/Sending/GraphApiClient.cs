using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Ava.WhatsApp.Contracts;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>
/// Sends text messages through Meta's Graph API. One attempt per call, no hidden retries: a POST that Meta
/// accepted must not be sent again, so retrying is the <see cref="ReplySender"/>'s decision. The HttpClient is
/// taken from the factory for each send, so that its pooled connections follow DNS changes of the Graph API.
/// </summary>
internal sealed class GraphApiClient(IHttpClientFactory httpClients, TimeProvider clock, IOptions<WhatsAppOptions> options)
{
    public const string HttpClientName = "graph-api";

    /// <param name="replyId">The reply's outbox id, sent as the callback data that Meta repeats in its statuses.</param>
    public async Task<GraphSendResult> SendTextAsync(string phoneNumberId, string to, string body, long replyId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var http = httpClients.CreateClient(HttpClientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{settings.GraphApiVersion}/{Uri.EscapeDataString(phoneNumberId)}/messages")
        {
            Content = JsonContent.Create(SendTextMessageRequest.Create(to, body, ReplyReference.Format(replyId)), WhatsAppJsonContext.Default.SendTextMessageRequest),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.AccessToken);

        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                var sent = await ReadAsync(response, WhatsAppJsonContext.Default.SendMessageResponse, cancellationToken);
                return sent?.Messages?.FirstOrDefault()?.Id is { Length: > 0 } wamid
                    ? GraphSendResult.Accepted(wamid)
                    // Accepted but unreadable: sending again could deliver twice, so this is not retried.
                    : new GraphSendResult(GraphSendOutcome.Permanent, ErrorTitle: $"Graph API answered {(int)response.StatusCode} without a message id");
            }

            var error = (await ReadAsync(response, WhatsAppJsonContext.Default.GraphErrorResponse, cancellationToken))?.Error;
            var outcome = GraphErrorClassifier.IsTransient(response.StatusCode, error?.Code)
                ? GraphSendOutcome.Transient
                : GraphSendOutcome.Permanent;
            return new GraphSendResult(
                outcome,
                ErrorCode: error?.Code,
                ErrorTitle: error?.Message ?? $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}",
                RetryAfter: RetryAfter(response));
        }
        catch (Exception exception) when (exception is HttpRequestException or TimeoutRejectedException or BrokenCircuitException
            || (exception is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new GraphSendResult(
                GraphSendOutcome.Transient,
                ErrorTitle: exception.GetType().Name + ": " + exception.Message,
                MayHaveReachedMeta: exception is not BrokenCircuitException);
        }
    }

    /// <summary>
    /// Reads the (already buffered) answer as UTF-8 JSON whatever charset it claims: an odd Content-Type must not turn
    /// an accepted send into an exception, which would be retried and deliver twice.
    /// </summary>
    private static async Task<T?> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        try
        {
            return JsonSerializer.Deserialize(await response.Content.ReadAsByteArrayAsync(cancellationToken), type);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - clock.GetUtcNow(),
        _ => null,
    };
}
