using System.Net.Http.Headers;
using System.Text.Json;
using Ava.Responder.Contracts;
using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Responding;

/// <summary>
/// Posts a turn to the responder, signed, with the turn's id as the idempotency key. One attempt per call: whether
/// and when to ask again is the <see cref="TurnComposer"/>'s decision, which knows the user's window.
/// </summary>
internal sealed class ResponderClient(IHttpClientFactory httpClients, TimeProvider clock, IOptions<ResponderOptions> options)
{
    public const string HttpClientName = "responder";

    public async Task<ResponderResult> AskAsync(Turn turn, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var body = JsonSerializer.SerializeToUtf8Bytes(turn, ResponderJsonContext.Default.Turn);
        using var request = new HttpRequestMessage(HttpMethod.Post, settings.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(TurnSignature.IdempotencyKeyHeaderName, turn.TurnId);
        request.Headers.Add(TurnSignature.HeaderName, TurnSignature.Compute(settings.Secret!, body));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var answer = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            return ResponderResult.FromResponse(response.StatusCode, RetryAfter(response), answer);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ResponderResult.Transient($"no answer within {settings.Timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException exception)
        {
            return ResponderResult.Transient($"responder unreachable: {exception.Message}");
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - clock.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };
}
