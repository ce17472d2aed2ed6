using System.Globalization;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>
/// Checks the access token against the Graph API — at start, then every <see cref="WhatsAppProcessingOptions.TokenCheckInterval"/>
/// — by reading Ava's business phone number (<c>GET /{version}/{WHATSAPP_PHONE_NUMBER_ID}</c>), and pauses all sending
/// of this instance while the token is refused, whether a check or a send found out. Paused, replies wait in the
/// outbox unattempted and nothing fails; the token is checked every <see cref="WhatsAppProcessingOptions.PausedTokenCheckInterval"/>,
/// and the first check it passes resumes sending at once. <c>/health</c> reports the last verdict without calling
/// the Graph API (see <see cref="AccessTokenState"/>).
/// </summary>
internal sealed partial class AccessTokenMonitor(
    GraphApiClient graph,
    OutboxQueue outbox,
    WhatsAppTelemetry telemetry,
    TimeProvider clock,
    IOptions<WhatsAppCloudApiOptions> whatsApp,
    IOptions<WhatsAppProcessingOptions> processing,
    ILogger<AccessTokenMonitor> logger) : BackgroundService, IHealthCheck
{
    private readonly string _phoneNumberId = whatsApp.Value.PhoneNumberId!;

    private readonly AccessTokenState _state = new(
        clock, whatsApp.Value.PhoneNumberId!, processing.Value.TokenCheckInterval, processing.Value.PausedTokenCheckInterval);

    private readonly CheckSignal _rescheduled = new();

    /// <summary>Whether sending is paused because the Graph API refuses the access token.</summary>
    public bool SendingPaused => _state.SendingPaused;

    /// <summary>A send or read receipt was refused for the token: sending pauses, if it was not paused already.</summary>
    public void Refused(GraphSendResult result)
    {
        Apply(_state.ObserveRefusal(result), result);
        _rescheduled.Notify();
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_state.Health());

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var untilCheck = _state.NextCheckAt - clock.GetUtcNow();
                if (untilCheck > TimeSpan.Zero)
                {
                    await _rescheduled.WaitAsync(untilCheck, stoppingToken);
                    continue;
                }

                var startedAt = clock.GetUtcNow();
                var verdictBefore = _state.Verdict;
                var result = await graph.ReadPhoneNumberAsync(_phoneNumberId, stoppingToken);
                telemetry.TokenChecks.Add(1, new KeyValuePair<string, object?>("outcome", result.Outcome.ToString()));
                Apply(_state.ObserveCheck(result, startedAt), result);

                if (_state.Verdict == TokenVerdict.NumberUnreadable && verdictBefore != TokenVerdict.NumberUnreadable)
                {
                    LogNumberUnreadable(logger, _phoneNumberId, result.ErrorCode, result.ErrorTitle);
                }
                else if (result.Outcome == GraphSendOutcome.Transient)
                {
                    LogCheckUnanswered(logger, result.ErrorCode, result.ErrorTitle);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                LogCheckFailed(logger, exception);
                await Task.Delay(processing.Value.PausedTokenCheckInterval, clock, stoppingToken);
            }
        }
    }

    private void Apply(TokenTransition transition, GraphSendResult result)
    {
        switch (transition)
        {
            case TokenTransition.Paused:
                telemetry.SendingPaused.Add(1);
                LogPaused(logger, result.ErrorCode?.ToString(CultureInfo.InvariantCulture) ?? "none", result.ErrorTitle, processing.Value.PausedTokenCheckInterval);
                break;
            case TokenTransition.Resumed:
                telemetry.SendingPaused.Add(-1);
                LogResumed(logger);
                // Replies handed back while paused wait in the outbox, due: the sender sweeps for them now.
                outbox.RequestSweep();
                break;
        }
    }

    private sealed class CheckSignal : WorkSignal;

    [LoggerMessage(Level = LogLevel.Critical, Message = "The Graph API refuses the WhatsApp access token (Meta code {ErrorCode}: {ErrorTitle}). Sending is paused: replies wait and none fails; the token is checked every {CheckInterval} and sending resumes when it is accepted. Set WHATSAPP_ACCESS_TOKEN to a valid token")]
    private static partial void LogPaused(ILogger logger, string errorCode, string? errorTitle, TimeSpan checkInterval);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Graph API accepts the WhatsApp access token again: sending resumes, and the replies that waited go now")]
    private static partial void LogResumed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "WHATSAPP_PHONE_NUMBER_ID {PhoneNumberId} cannot be read with the access token (Meta code {ErrorCode}: {ErrorTitle}): check the id, and that the token may manage its WhatsApp Business Account")]
    private static partial void LogNumberUnreadable(ILogger logger, string phoneNumberId, int? errorCode, string? errorTitle);

    [LoggerMessage(Level = LogLevel.Information, Message = "The access token check got no answer from the Graph API ({ErrorCode}: {ErrorTitle}); trying again later")]
    private static partial void LogCheckUnanswered(ILogger logger, int? errorCode, string? errorTitle);

    [LoggerMessage(Level = LogLevel.Error, Message = "The access token check hit an unexpected error; it carries on")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);
}
