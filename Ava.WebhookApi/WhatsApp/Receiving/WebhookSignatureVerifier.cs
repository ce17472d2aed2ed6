using System.Security.Cryptography;
using System.Text;
using Ava.WhatsApp.Contracts;
using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Receiving;

/// <summary>Checks Meta's signature of a delivery, and the verify token of the subscription handshake.</summary>
internal sealed partial class WebhookSignatureVerifier
{
    /// <summary>
    /// A flood of badly signed deliveries — strangers probing the public URL, or every delivery of Meta's once the
    /// app secret is rotated — would fill the logs with a warning each. The first refusal is logged at once; those
    /// that follow within this interval are counted, and logged as one line with the next refusal after it.
    /// </summary>
    public static readonly TimeSpan RefusalLogInterval = TimeSpan.FromMinutes(1);

    private readonly byte[]? _appSecret;
    private readonly byte[] _verifyTokenHash;
    private readonly TimeProvider _clock;
    private readonly ILogger<WebhookSignatureVerifier> _logger;

    private readonly Lock _refusals = new();
    private long? _lastRefusalLogged;
    private int _unloggedMissing;
    private int _unloggedWrong;

    public WebhookSignatureVerifier(IOptions<WhatsAppCloudApiOptions> options, TimeProvider clock, ILogger<WebhookSignatureVerifier> logger)
    {
        _clock = clock;
        _logger = logger;
        var settings = options.Value;
        _verifyTokenHash = SHA256.HashData(Encoding.UTF8.GetBytes(settings.VerifyToken ?? ""));
        if (settings.AllowUnsignedDeliveries)
        {
            // Asked for by name; the options validator refuses it outside Development.
            _appSecret = null;
            LogSignaturesNotChecked(logger, WhatsAppCloudApiOptions.AllowUnsignedDeliveriesKey);
        }
        else if (string.IsNullOrEmpty(settings.AppSecret))
        {
            // Unreachable past the options validator; should it ever be skipped, fail closed rather than open.
            throw new InvalidOperationException("WHATSAPP_APP_SECRET is not set: webhook signatures cannot be checked.");
        }
        else
        {
            _appSecret = Encoding.UTF8.GetBytes(settings.AppSecret);
        }
    }

    public bool IsSignedByMeta(string? signatureHeader, ReadOnlySpan<byte> body)
    {
        if (_appSecret is null || WebhookSignature.IsValid(signatureHeader, _appSecret, body))
        {
            return true;
        }

        Refused(body.Length, missing: signatureHeader is null);
        return false;
    }

    private void Refused(int length, bool missing)
    {
        int missingCount, wrongCount;
        TimeSpan? since;
        lock (_refusals)
        {
            _unloggedMissing += missing ? 1 : 0;
            _unloggedWrong += missing ? 0 : 1;
            since = _lastRefusalLogged is { } last ? _clock.GetElapsedTime(last) : null;
            if (since < RefusalLogInterval)
            {
                return;
            }

            (missingCount, wrongCount) = (_unloggedMissing, _unloggedWrong);
            (_unloggedMissing, _unloggedWrong) = (0, 0);
            _lastRefusalLogged = _clock.GetTimestamp();
        }

        if (missingCount + wrongCount == 1)
        {
            LogBadSignature(_logger, length, missing ? "missing" : "wrong");
        }
        else
        {
            LogBadSignatures(_logger, missingCount + wrongCount, missingCount, wrongCount, since!.Value);
        }
    }

    /// <summary>Compares in constant time; hashing first keeps the token's length from showing too.</summary>
    public bool IsVerifyToken(string? candidate) =>
        candidate is not null
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(candidate)), _verifyTokenHash);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a webhook delivery of {Length} bytes: its signature is {Problem}")]
    private static partial void LogBadSignature(ILogger logger, int length, string problem);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Refused {Count} webhook deliveries in the last {Period}: signature missing on {Missing}, wrong on {Wrong}; refusals are summed up like this at most once a minute")]
    private static partial void LogBadSignatures(ILogger logger, int count, int missing, int wrong, TimeSpan period);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Setting}=true: webhook signatures are NOT checked (allowed in Development only)")]
    private static partial void LogSignaturesNotChecked(ILogger logger, string setting);
}
