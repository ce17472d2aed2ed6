using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>What the Graph API last said about Ava's access token.</summary>
internal enum TokenVerdict
{
    /// <summary>No answer yet: not checked, or the Graph API could not be reached so far.</summary>
    Unchecked,

    /// <summary>The business phone number was read with it.</summary>
    Accepted,

    /// <summary>Expired, revoked or lacking a permission: sending is paused.</summary>
    Refused,

    /// <summary>
    /// The token was not refused, but the configured phone number cannot be read with it (a wrong id, or a number
    /// of another account). Replies go from the numbers messages arrive on, so sending goes on.
    /// </summary>
    NumberUnreadable,
}

/// <summary>What an observation changed for sending.</summary>
internal enum TokenTransition
{
    None,

    /// <summary>The token was refused: sending stops until it is accepted again.</summary>
    Paused,

    /// <summary>The token is accepted again: replies that waited may go.</summary>
    Resumed,
}

/// <summary>
/// Whether Ava may send, from what the Graph API says of its access token — the periodic check of the business phone
/// number, and every send or read receipt refused for the token. A refused token pauses all sending; only a check
/// the Graph API answers lifts the pause, and while paused the check comes often. Nothing here calls the Graph API:
/// <see cref="AccessTokenMonitor"/> does, and <c>/health</c> reports the last verdict.
/// </summary>
/// <param name="phoneNumberId">The business phone number the check reads (<c>WHATSAPP_PHONE_NUMBER_ID</c>).</param>
/// <param name="checkInterval">How often the token is checked while it works.</param>
/// <param name="pausedCheckInterval">How often it is checked while refused, or while no check has been answered.</param>
internal sealed class AccessTokenState(TimeProvider clock, string phoneNumberId, TimeSpan checkInterval, TimeSpan pausedCheckInterval)
{
    private readonly Lock _lock = new();
    private TokenVerdict _verdict;
    private GraphSendResult? _answer;
    private DateTimeOffset _since;
    private DateTimeOffset _lastRefusedAt = DateTimeOffset.MinValue;
    private DateTimeOffset _nextCheckAt = clock.GetUtcNow();
    private string? _unanswered;
    private volatile bool _paused;

    /// <summary>Whether sending is paused: the token was refused and no check has been accepted since.</summary>
    public bool SendingPaused => _paused;

    public TokenVerdict Verdict
    {
        get
        {
            lock (_lock)
            {
                return _verdict;
            }
        }
    }

    /// <summary>When the token is next checked: at once at start, then after each check or first refusal.</summary>
    public DateTimeOffset NextCheckAt
    {
        get
        {
            lock (_lock)
            {
                return _nextCheckAt;
            }
        }
    }

    /// <summary>The answer to a check of the phone number.</summary>
    /// <param name="startedAt">When the check was sent: an acceptance older than a refusal says nothing about it.</param>
    public TokenTransition ObserveCheck(GraphSendResult result, DateTimeOffset startedAt)
    {
        var now = clock.GetUtcNow();
        lock (_lock)
        {
            switch (result.Outcome)
            {
                case GraphSendOutcome.Accepted when startedAt < _lastRefusedAt:
                    // A send was refused while this check was on its way: the token may have expired in between.
                    _nextCheckAt = now + pausedCheckInterval;
                    return TokenTransition.None;

                case GraphSendOutcome.Accepted:
                    return Settle(TokenVerdict.Accepted, result, now, checkInterval);

                case GraphSendOutcome.Credential:
                    _lastRefusedAt = now;
                    return Settle(TokenVerdict.Refused, result, now, pausedCheckInterval);

                case GraphSendOutcome.Permanent:
                    return Settle(TokenVerdict.NumberUnreadable, result, now, checkInterval);

                default:
                    // No answer about the token: what was known stands, and is asked again soon unless it was good news.
                    _unanswered = result.ErrorTitle ?? "no answer";
                    _nextCheckAt = now + (_verdict is TokenVerdict.Accepted or TokenVerdict.NumberUnreadable ? checkInterval : pausedCheckInterval);
                    return TokenTransition.None;
            }
        }
    }

    /// <summary>A send or read receipt was refused for the token (<see cref="GraphSendOutcome.Credential"/>).</summary>
    public TokenTransition ObserveRefusal(GraphSendResult result)
    {
        var now = clock.GetUtcNow();
        lock (_lock)
        {
            _lastRefusedAt = now;
            if (_verdict == TokenVerdict.Refused)
            {
                // Already paused: the check keeps its time, or a steady stream of refusals would put it off for ever.
                _answer = result;
                return TokenTransition.None;
            }

            return Settle(TokenVerdict.Refused, result, now, pausedCheckInterval);
        }
    }

    /// <summary>The last verdict, for <c>/health</c>: degraded while the token is refused or cannot read the number.</summary>
    public HealthCheckResult Health()
    {
        lock (_lock)
        {
            var answer = _answer is { } known
                ? string.Create(CultureInfo.InvariantCulture, $"Meta code {known.ErrorCode?.ToString(CultureInfo.InvariantCulture) ?? "none"}: {known.ErrorTitle}")
                : "";
            var unanswered = _unanswered is { } problem ? $" The last check got no answer: {problem}." : "";
            return _verdict switch
            {
                TokenVerdict.Refused => HealthCheckResult.Degraded(string.Create(
                    CultureInfo.InvariantCulture,
                    $"The Graph API has refused the WhatsApp access token since {_since:u} ({answer}). Sending is paused: replies " +
                    $"wait, none fails, and they go as soon as the token is accepted again (checked every {pausedCheckInterval.TotalSeconds:0} s). " +
                    $"Set WHATSAPP_ACCESS_TOKEN to a valid token with the whatsapp_business_messaging permission; a System User's token does not expire.{unanswered}")),
                TokenVerdict.NumberUnreadable => HealthCheckResult.Degraded(string.Create(
                    CultureInfo.InvariantCulture,
                    $"WHATSAPP_PHONE_NUMBER_ID {phoneNumberId} cannot be read with the access token since {_since:u} ({answer}): check the " +
                    $"id, and that the token may manage the WhatsApp Business Account of that number.{unanswered}")),
                TokenVerdict.Accepted => HealthCheckResult.Healthy(string.Create(
                    CultureInfo.InvariantCulture, $"The Graph API accepts the access token (since {_since:u}).{unanswered}")),
                _ => HealthCheckResult.Healthy("The access token has not been checked yet." + unanswered),
            };
        }
    }

    private TokenTransition Settle(TokenVerdict verdict, GraphSendResult answer, DateTimeOffset now, TimeSpan nextCheckIn)
    {
        if (verdict != _verdict)
        {
            _since = now;
        }

        _verdict = verdict;
        _answer = verdict == TokenVerdict.Accepted ? null : answer;
        _unanswered = null;
        _nextCheckAt = now + nextCheckIn;

        var paused = verdict == TokenVerdict.Refused;
        if (paused == _paused)
        {
            return TokenTransition.None;
        }

        _paused = paused;
        return paused ? TokenTransition.Paused : TokenTransition.Resumed;
    }
}
