using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Receiving;
using Ava.WhatsApp.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ava.Tests.Unit;

/// <summary>What the webhook agrees to start with: no check is relaxed by an environment name alone.</summary>
public sealed class WebhookSettingsTests
{
    private const string UnsignedKey = WhatsAppCloudApiOptions.AllowUnsignedDeliveriesKey;
    private static readonly byte[] s_body = """{"object":"whatsapp_business_account","entry":[]}"""u8.ToArray();

    [Theory]
    [InlineData("Development")]
    [InlineData("Staging")]
    [InlineData("Production")]
    public void Without_an_app_secret_the_webhook_does_not_start_in_any_environment(string environment)
    {
        var result = Validate(environment, Complete(o => o.AppSecret = null));

        Assert.Contains(result.Failures!, failure => failure.StartsWith("WHATSAPP_APP_SECRET is not set", StringComparison.Ordinal));
    }

    [Fact]
    public void In_Development_the_missing_secret_message_names_the_setting_that_allows_unsigned_deliveries()
    {
        var result = Validate(Environments.Development, Complete(o => o.AppSecret = null));

        Assert.Equal(
            [$"WHATSAPP_APP_SECRET is not set (to accept unsigned deliveries in Development, set {UnsignedKey}=true)."],
            result.Failures);
    }

    [Fact]
    public void Unsigned_deliveries_asked_for_by_name_are_allowed_in_Development()
    {
        var result = Validate(Environments.Development, Complete(o => { o.AppSecret = null; o.AllowUnsignedDeliveries = true; }));

        Assert.True(result.Succeeded);
    }

    [Theory]
    [InlineData("Staging", null)]
    [InlineData("Production", null)]
    [InlineData("Production", "a-secret")]
    public void Unsigned_deliveries_stop_the_webhook_outside_Development_naming_the_setting(string environment, string? appSecret)
    {
        var result = Validate(environment, Complete(o => { o.AppSecret = appSecret; o.AllowUnsignedDeliveries = true; }));

        Assert.True(result.Failed);
        Assert.Equal(
            [$"{UnsignedKey}=true is allowed in Development only (this is {environment}): remove it and set WHATSAPP_APP_SECRET."],
            result.Failures);
    }

    [Fact]
    public void The_relaxations_are_read_from_configuration_under_their_names()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                [UnsignedKey] = "true",
                [WhatsAppCloudApiOptions.AllowLoopbackHttpGraphApiKey] = "true",
            })
            .Build();

        var options = configuration.Get<WhatsAppCloudApiOptions>()!;

        Assert.True(options.AllowUnsignedDeliveries);
        Assert.True(options.AllowLoopbackHttpGraphApi);
        Assert.False(new ConfigurationBuilder().Build().Get<WhatsAppCloudApiOptions>()?.AllowUnsignedDeliveries ?? false);
    }

    [Fact]
    public void With_an_app_secret_a_delivery_must_be_signed_with_it()
    {
        var verifier = Verifier(Complete());

        Assert.False(verifier.IsSignedByMeta(null, s_body));
        Assert.False(verifier.IsSignedByMeta(WebhookSignature.Compute("other-secret", s_body), s_body));
        Assert.True(verifier.IsSignedByMeta(WebhookSignature.Compute("app-secret", s_body), s_body));
    }

    [Fact]
    public void Signatures_go_unchecked_only_when_unsigned_deliveries_are_allowed_by_name()
    {
        Assert.True(Verifier(Complete(o => { o.AppSecret = null; o.AllowUnsignedDeliveries = true; })).IsSignedByMeta(null, s_body));

        // Were the validator ever skipped, a missing secret fails closed instead of accepting everything.
        Assert.Throws<InvalidOperationException>(() => Verifier(Complete(o => o.AppSecret = null)));
    }

    [Theory]
    [InlineData("Development", "http://localhost:5170")]
    [InlineData("Development", "http://simulator.internal")]
    [InlineData("Production", "https://graph.facebook.com")]
    [InlineData("Staging", "https://graph.example.com")]
    public void The_Graph_API_may_be_plain_http_in_Development_only(string environment, string url)
    {
        Assert.True(Validate(environment, Complete(o => o.GraphBaseUrl = new Uri(url))).Succeeded);
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    public void Outside_Development_an_http_Graph_API_stops_the_webhook(string environment)
    {
        var result = Validate(environment, Complete(o => o.GraphBaseUrl = new Uri("http://graph.facebook.com")));

        Assert.Equal(
            [$"WHATSAPP_GRAPH_BASE_URL must be https outside Development (this is {environment}): every call carries the access token."],
            result.Failures);
    }

    [Theory]
    [InlineData("http://localhost:5170", true)]
    [InlineData("http://127.0.0.1:5170", true)]
    [InlineData("http://[::1]:5170", true)]
    [InlineData("http://graph.facebook.com", false)]
    [InlineData("http://10.0.0.7:8080", false)]
    public void Outside_Development_http_is_admitted_by_name_and_only_to_this_machine(string url, bool admitted)
    {
        var result = Validate(
            Environments.Production, Complete(o => { o.GraphBaseUrl = new Uri(url); o.AllowLoopbackHttpGraphApi = true; }));

        Assert.Equal(admitted, result.Succeeded);
        if (!admitted)
        {
            Assert.Contains(WhatsAppCloudApiOptions.AllowLoopbackHttpGraphApiKey, Assert.Single(result.Failures!));
        }
    }

    /// <summary>A complete set of settings, changed as the case needs.</summary>
    private static WhatsAppCloudApiOptions Complete(Action<WhatsAppCloudApiOptions>? change = null)
    {
        var options = new WhatsAppCloudApiOptions { AccessToken = "t", PhoneNumberId = "1", VerifyToken = "v", AppSecret = "app-secret" };
        change?.Invoke(options);
        return options;
    }

    private static ValidateOptionsResult Validate(string environment, WhatsAppCloudApiOptions options) =>
        new WhatsAppCloudApiOptionsValidator(new HostingEnvironment { EnvironmentName = environment }).Validate(null, options);

    private static WebhookSignatureVerifier Verifier(WhatsAppCloudApiOptions options) =>
        new(Options.Create(options), TimeProvider.System, NullLogger<WebhookSignatureVerifier>.Instance);
}
