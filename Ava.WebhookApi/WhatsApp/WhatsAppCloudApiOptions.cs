namespace Ava.WebhookApi.WhatsApp;

/// <summary>
/// Ava's WhatsApp Cloud API settings, read from the plan's environment variables (<c>WHATSAPP_…</c>); in the AppHost
/// they are Aspire parameters. Validated at start.
/// </summary>
public sealed class WhatsAppCloudApiOptions
{
    public const string DefaultGraphApiVersion = "v25.0";

    public const string AllowUnsignedDeliveriesKey = "WhatsApp:AllowUnsignedDeliveries";

    public const string AllowLoopbackHttpGraphApiKey = "WhatsApp:AllowLoopbackHttpGraphApi";

    public const string DefaultRegistrationMessage =
        "Please create an account at ava.example.com and link your number: in the Ava app, add this number under " +
        "WhatsApp, then send us the message LINK followed by the code the app shows you.";

    /// <summary>Bearer token for the Graph API (a system user's permanent token in production).</summary>
    [ConfigurationKeyName("WHATSAPP_ACCESS_TOKEN")]
    public string? AccessToken { get; set; }

    /// <summary>Ava's business phone number id (replies go out from the number each message arrived on).</summary>
    [ConfigurationKeyName("WHATSAPP_PHONE_NUMBER_ID")]
    public string? PhoneNumberId { get; set; }

    /// <summary>The token Meta echoes in the webhook verification handshake.</summary>
    [ConfigurationKeyName("WHATSAPP_VERIFY_TOKEN")]
    public string? VerifyToken { get; set; }

    /// <summary>The app secret that keys <c>X-Hub-Signature-256</c>; required unless <see cref="AllowUnsignedDeliveries"/>.</summary>
    [ConfigurationKeyName("WHATSAPP_APP_SECRET")]
    public string? AppSecret { get; set; }

    /// <summary>
    /// Accepts deliveries without checking their signature, for posting to a local webhook by hand. It has to be
    /// asked for by name — an unset secret is an error, never a quiet bypass — and outside Development the service
    /// refuses to start with it.
    /// </summary>
    [ConfigurationKeyName(AllowUnsignedDeliveriesKey)]
    public bool AllowUnsignedDeliveries { get; set; }

    /// <summary>Must be https outside Development: every call carries the access token.</summary>
    [ConfigurationKeyName("WHATSAPP_GRAPH_BASE_URL")]
    public Uri GraphBaseUrl { get; set; } = new("https://graph.facebook.com");

    /// <summary>
    /// Admits an http <see cref="GraphBaseUrl"/> outside Development when it names this machine (a stand-in of the
    /// Graph API such as the simulator, e.g. in a benchmark run as Production); the token never leaves the host.
    /// </summary>
    [ConfigurationKeyName(AllowLoopbackHttpGraphApiKey)]
    public bool AllowLoopbackHttpGraphApi { get; set; }

    /// <summary>Graph API versions expire about two years after release, so the version is configuration.</summary>
    [ConfigurationKeyName("WHATSAPP_GRAPH_API_VERSION")]
    public string GraphApiVersion { get; set; } = DefaultGraphApiVersion;

    /// <summary>The reply to a sender whose phone is linked to no Ava account.</summary>
    [ConfigurationKeyName("WHATSAPP_REGISTRATION_MESSAGE")]
    public string RegistrationMessage { get; set; } = DefaultRegistrationMessage;
}
