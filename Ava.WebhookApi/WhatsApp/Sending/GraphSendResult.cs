namespace Ava.WebhookApi.WhatsApp.Sending;

internal enum GraphSendOutcome
{
    /// <summary>Meta accepted the message and gave it a wamid.</summary>
    Accepted,

    /// <summary>Not accepted this time (rate limit, server error, timeout): try again later.</summary>
    Transient,

    /// <summary>Refused for good (outside the 24-hour window, undeliverable…): do not retry.</summary>
    Permanent,

    /// <summary>
    /// The access token was refused (expired, revoked, lacking a permission): not the message's fault, and no send can
    /// succeed until the token works again. Nothing is failed; sending pauses.
    /// </summary>
    Credential,
}

/// <param name="MayHaveReachedMeta">
/// Not answered (a timeout, a connection lost after the request went out): Meta may have accepted it, and its status
/// would then say so within seconds.
/// </param>
internal sealed record GraphSendResult(
    GraphSendOutcome Outcome,
    string? Wamid = null,
    int? ErrorCode = null,
    string? ErrorTitle = null,
    TimeSpan? RetryAfter = null,
    bool MayHaveReachedMeta = false)
{
    public static GraphSendResult Accepted(string wamid) => new(GraphSendOutcome.Accepted, wamid);

    /// <summary>Meta answered a call that sends no message (a read receipt, a check, a lookup): accepted, without a wamid.</summary>
    public static readonly GraphSendResult Answered = new(GraphSendOutcome.Accepted);

    /// <summary>A send refused because the token may not use its business number: that number's business, not all sending's.</summary>
    public bool RefusesNumber => Outcome == GraphSendOutcome.Credential && ErrorCode is { } code && GraphErrorClassifier.IsNumberPermissionCode(code);

    /// <summary>A refusal of the access token as such (expired, revoked): no send of any number can succeed until it is fixed.</summary>
    public bool RefusesToken => Outcome == GraphSendOutcome.Credential && !RefusesNumber;
}
