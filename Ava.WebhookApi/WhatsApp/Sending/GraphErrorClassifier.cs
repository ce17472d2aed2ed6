using System.Net;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>
/// What a Graph API failure means. Meta's error code decides where it is known; otherwise the HTTP status does (401
/// is the access token, 429, 408 and 5xx are transient, other 4xx permanent).
/// </summary>
internal static class GraphErrorClassifier
{
    /// <summary>Temporary errors, rate limits and throughput limits (Meta's error code reference).</summary>
    public static readonly IReadOnlySet<int> TransientCodes = new HashSet<int>
    {
        1,      // unknown error, possibly temporary
        2,      // service temporarily unavailable
        4,      // application request limit reached
        17,     // user request limit reached
        341,    // application limit reached
        80007,  // WhatsApp Business Account rate limit
        130429, // Cloud API throughput limit
        131000, // something went wrong (temporary)
        131016, // service unavailable
        131056, // too many messages to the same recipient (pair rate limit)
        133004, // server temporarily unavailable
    };

    /// <summary>Refusals no retry can change; listed so that a 5xx carrying one of them is not retried either.</summary>
    public static readonly IReadOnlySet<int> PermanentCodes = new HashSet<int>
    {
        100,    // invalid parameter
        368,    // temporarily blocked for policy violations
        131008, // required parameter missing
        131009, // parameter value not valid
        131026, // message undeliverable
        131030, // recipient not in the allowed list
        131031, // account locked
        131047, // more than 24 hours since the user last wrote
    };

    /// <summary>
    /// Meta's authorization errors: the access token expired or was revoked (0, 190), or lacks a permission (3, 10,
    /// 200–299). They are about Ava's credentials, not the message: every send would be refused alike until the token
    /// is fixed, so sending pauses (see <see cref="AccessTokenMonitor"/>) instead of failing replies one by one.
    /// </summary>
    public static bool IsCredentialCode(int code) => code is 0 or 3 or 10 or 190 or (>= 200 and <= 299);

    /// <summary>
    /// The permission refusals (10, 200–299): on a send they say the token may not use that business number, not that
    /// the token is dead — other numbers keep sending, and that number backs off (see <see cref="GraphSendResult.RefusesNumber"/>).
    /// </summary>
    public static bool IsNumberPermissionCode(int code) => code is 10 or (>= 200 and <= 299);

    public static GraphSendOutcome Classify(HttpStatusCode status, int? metaCode)
    {
        if (metaCode is { } code)
        {
            if (IsCredentialCode(code))
            {
                return GraphSendOutcome.Credential;
            }

            if (TransientCodes.Contains(code))
            {
                return GraphSendOutcome.Transient;
            }

            if (PermanentCodes.Contains(code))
            {
                return GraphSendOutcome.Permanent;
            }
        }

        return status switch
        {
            HttpStatusCode.Unauthorized => GraphSendOutcome.Credential,
            HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout => GraphSendOutcome.Transient,
            _ when (int)status >= 500 => GraphSendOutcome.Transient,
            _ => GraphSendOutcome.Permanent,
        };
    }
}
