using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Ava.WhatsApp.Contracts;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>
/// Ava's calls to Meta's Graph API: text messages, read receipts with the typing indicator, the access token check,
/// and where a media's bytes are. One attempt per call, no hidden retries: a POST that Meta accepted must not be sent again, so retrying is
/// the <see cref="ReplySender"/>'s decision. The HttpClient is taken from the factory for each call, so that its
/// pooled connections follow DNS changes of the Graph API.
/// </summary>
internal sealed class GraphApiClient(IHttpClientFactory httpClients, TimeProvider clock, IOptions<WhatsAppCloudApiOptions> options)
{
    public const string HttpClientName = "graph-api";

    /// <param name="toPhone">The recipient's phone, where the message goes when there is one.</param>
    /// <param name="toUserId">The recipient's business-scoped user id, where it goes otherwise (Meta's <c>recipient</c>).</param>
    /// <param name="reply">The reply's outbox id and key, sent as the callback data that Meta repeats in its statuses.</param>
    public async Task<GraphSendResult> SendTextAsync(
        string phoneNumberId, string? toPhone, string? toUserId, string body, ReplyReference reply, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Post, $"{Uri.EscapeDataString(phoneNumberId)}/messages");
        request.Content = JsonContent.Create(
            SendTextMessageRequest.CreateTo(toPhone, toUserId, body, reply.Format()), WhatsAppJsonContext.Default.SendTextMessageRequest);
        return await CallAsync(request, async response =>
        {
            var sent = await ReadAsync(response, WhatsAppJsonContext.Default.SendMessageResponse, cancellationToken);
            return sent?.Messages?.FirstOrDefault()?.Id is { Length: > 0 } wamid
                ? GraphSendResult.Accepted(wamid)
                // Accepted but unreadable: sending again could deliver twice, so this is not retried.
                : new GraphSendResult(GraphSendOutcome.Permanent, ErrorTitle: $"Graph API answered {(int)response.StatusCode} without a message id");
        }, cancellationToken);
    }

    /// <summary>Marks a received message read and shows the typing indicator, in Meta's one documented call.</summary>
    public async Task<GraphSendResult> MarkReadWithTypingAsync(string phoneNumberId, string wamid, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Post, $"{Uri.EscapeDataString(phoneNumberId)}/messages");
        request.Content = JsonContent.Create(MarkReadRequest.WithTypingIndicator(wamid), WhatsAppJsonContext.Default.MarkReadRequest);
        return await CallAsync(request, _ => Task.FromResult(GraphSendResult.Answered), cancellationToken);
    }

    /// <summary>Reads the business phone number: succeeds only while the access token is valid and may use it.</summary>
    public async Task<GraphSendResult> ReadPhoneNumberAsync(string phoneNumberId, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, $"{Uri.EscapeDataString(phoneNumberId)}?fields=id,display_phone_number,verified_name");
        return await CallAsync(request, _ => Task.FromResult(GraphSendResult.Answered), cancellationToken);
    }

    /// <summary>
    /// Asks where a media's bytes are: a URL that works, with the access token, for 5 minutes. Without
    /// <c>phone_number_id</c>, which breaks the lookup of media a user sent.
    /// </summary>
    /// <returns>The answer, and what Meta said of the media when it answered.</returns>
    public async Task<(GraphSendResult Result, MediaDownloadUrl? Media)> LookUpMediaAsync(string mediaId, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, Uri.EscapeDataString(mediaId));
        MediaDownloadUrl? media = null;
        var result = await CallAsync(request, async response =>
        {
            media = await ReadAsync(response, WhatsAppJsonContext.Default.MediaDownloadUrl, cancellationToken);
            return GraphSendResult.Answered;
        }, cancellationToken);
        return (result, media);
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var settings = options.Value;
        var request = new HttpRequestMessage(method, $"{settings.GraphApiVersion}/{path}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.AccessToken);
        return request;
    }

    private async Task<GraphSendResult> CallAsync(
        HttpRequestMessage request, Func<HttpResponseMessage, Task<GraphSendResult>> succeeded, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return await succeeded(response);
            }

            var error = (await ReadAsync(response, WhatsAppJsonContext.Default.GraphErrorResponse, cancellationToken))?.Error;
            return new GraphSendResult(
                GraphErrorClassifier.Classify(response.StatusCode, error?.Code),
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
