using System.Security.Cryptography;
using System.Text;
using Ava.WhatsApp.Contracts;
using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Receiving;

/// <summary>Checks Meta's signature of a delivery, and the verify token of the subscription handshake.</summary>
internal sealed partial class WebhookSignatureVerifier
{
    private readonly byte[]? _appSecret;
    private readonly byte[] _verifyTokenHash;
    private readonly ILogger<WebhookSignatureVerifier> _logger;

    public WebhookSignatureVerifier(IOptions<WhatsAppCloudApiOptions> options, ILogger<WebhookSignatureVerifier> logger)
    {
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

        LogBadSignature(_logger, body.Length, signatureHeader is null ? "missing" : "wrong");
        return false;
    }

    /// <summary>Compares in constant time; hashing first keeps the token's length from showing too.</summary>
    public bool IsVerifyToken(string? candidate) =>
        candidate is not null
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(candidate)), _verifyTokenHash);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a webhook delivery of {Length} bytes: its signature is {Problem}")]
    private static partial void LogBadSignature(ILogger logger, int length, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Setting}=true: webhook signatures are NOT checked (allowed in Development only)")]
    private static partial void LogSignaturesNotChecked(ILogger logger, string setting);
}
