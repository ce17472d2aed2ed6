using System.Text;
using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Receiving;
using Ava.WhatsApp.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Ava.Tests.Unit;

/// <summary>
/// Badly signed deliveries are refused one by one, but a flood of them — strangers probing the public URL, or a
/// rotated app secret — does not flood the logs: one warning at once, then one line a minute at most, with counts.
/// </summary>
public sealed class BadSignatureLogTests
{
    private const string AppSecret = "app-secret";

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private readonly WarningLog _log = new();
    private readonly byte[] _body = Encoding.UTF8.GetBytes("""{"object":"whatsapp_business_account","entry":[]}""");

    [Fact]
    public void A_thousand_badly_signed_deliveries_in_a_minute_log_one_warning_and_the_next_minute_one_line_with_the_count()
    {
        var verifier = Verifier();

        for (var i = 0; i < 1000; i++)
        {
            Assert.False(verifier.IsSignedByMeta(i % 4 == 0 ? null : "sha256=" + new string('0', 64), _body));
            _clock.Advance(TimeSpan.FromMilliseconds(50));
        }

        Assert.Equal(["Refused a webhook delivery of 49 bytes: its signature is missing"], _log.Warnings);

        _clock.Advance(WebhookSignatureVerifier.RefusalLogInterval);
        Assert.False(verifier.IsSignedByMeta("sha256=" + new string('0', 64), _body));

        Assert.Equal(2, _log.Warnings.Count);
        Assert.StartsWith("Refused 1000 webhook deliveries in the last 00:01:50", _log.Warnings[1], StringComparison.Ordinal);
        Assert.Contains("signature missing on 249, wrong on 751", _log.Warnings[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Refusals_a_minute_apart_are_each_logged_as_they_come_and_meta_s_deliveries_log_nothing()
    {
        var verifier = Verifier();

        Assert.True(verifier.IsSignedByMeta(WebhookSignature.Compute(AppSecret, _body), _body));
        Assert.False(verifier.IsSignedByMeta("sha256=" + new string('0', 64), _body));
        _clock.Advance(WebhookSignatureVerifier.RefusalLogInterval);
        Assert.False(verifier.IsSignedByMeta(null, _body));

        Assert.Equal(
            ["Refused a webhook delivery of 49 bytes: its signature is wrong", "Refused a webhook delivery of 49 bytes: its signature is missing"],
            _log.Warnings);
    }

    private WebhookSignatureVerifier Verifier() => new(
        Options.Create(new WhatsAppCloudApiOptions { AccessToken = "t", PhoneNumberId = "1", VerifyToken = "v", AppSecret = AppSecret }),
        _clock,
        _log);

    /// <summary>The warnings logged, as they read.</summary>
    private sealed class WarningLog : ILogger<WebhookSignatureVerifier>
    {
        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                Warnings.Add(formatter(state, exception));
            }
        }
    }
}
