using System.Security.Cryptography;
using Ava.Hosting.Local;
using Microsoft.Extensions.Configuration;

namespace Ava.AppHost.WhatsApp;

/// <summary>The parameters of Meta's WhatsApp Cloud API, and whether the simulator plays it.</summary>
/// <param name="IsSimulated">No access token is configured: the simulator plays Meta with secrets made for the run.</param>
public sealed record WhatsAppCloudApi(
    IResourceBuilder<ParameterResource> AccessToken,
    IResourceBuilder<ParameterResource> PhoneNumberId,
    IResourceBuilder<ParameterResource> VerifyToken,
    IResourceBuilder<ParameterResource> AppSecret,
    bool IsSimulated);

/// <summary>
/// Meta's WhatsApp Cloud API as the AppHost sees it: the real one when an access token is configured
/// (<c>Parameters:whatsapp-access-token</c> through user-secrets or environment) and always in what the AppHost
/// publishes, whose parameters are then the deployment's to fill; otherwise the simulator, with secrets generated
/// for the run and the webhook's Graph API calls pointed at it. The simulator signs whatever is posted to it and is
/// never deployed.
/// </summary>
public static class WhatsAppCloudApiExtensions
{
    public const string AccessTokenParameter = "whatsapp-access-token";
    public const string PhoneNumberIdParameter = "whatsapp-phone-number-id";
    public const string VerifyTokenParameter = "whatsapp-verify-token";
    public const string AppSecretParameter = "whatsapp-app-secret";
    public const string SimulatorName = "whatsapp-simulator";

    /// <summary>The phone number id the simulator plays when no real number is configured.</summary>
    public const string SimulatedPhoneNumberId = "100000000000001";

    public static WhatsAppCloudApi AddWhatsAppCloudApi(this IDistributedApplicationBuilder builder)
    {
        if (builder.ExecutionContext.IsPublishMode || !string.IsNullOrWhiteSpace(builder.Configuration[$"Parameters:{AccessTokenParameter}"]))
        {
            return new WhatsAppCloudApi(
                builder.AddParameter(AccessTokenParameter, secret: true),
                builder.AddParameter(PhoneNumberIdParameter),
                builder.AddParameter(VerifyTokenParameter, secret: true),
                builder.AddParameter(AppSecretParameter, secret: true),
                IsSimulated: false);
        }

        return new WhatsAppCloudApi(
            builder.AddParameter(AccessTokenParameter, NewSecret(), secret: true),
            builder.AddParameter(PhoneNumberIdParameter, SimulatedPhoneNumberId),
            builder.AddParameter(VerifyTokenParameter, NewSecret(), secret: true),
            builder.AddParameter(AppSecretParameter, NewSecret(), secret: true),
            IsSimulated: true);
    }

    /// <summary>The webhook's side: the token it sends with, the number it is, the secrets Meta's calls carry.</summary>
    public static IResourceBuilder<ProjectResource> WithWhatsAppCloudApi(
        this IResourceBuilder<ProjectResource> webhook, WhatsAppCloudApi whatsApp) => webhook
            .WithEnvironment("WHATSAPP_ACCESS_TOKEN", whatsApp.AccessToken)
            .WithEnvironment("WHATSAPP_PHONE_NUMBER_ID", whatsApp.PhoneNumberId)
            .WithEnvironment("WHATSAPP_VERIFY_TOKEN", whatsApp.VerifyToken)
            .WithEnvironment("WHATSAPP_APP_SECRET", whatsApp.AppSecret);

    /// <summary>
    /// The simulator plays Meta for the webhook (which it delivers to by reference): it checks the webhook's token and
    /// signs its deliveries with the same secrets, and the webhook's Graph API calls go to it.
    /// </summary>
    public static IResourceBuilder<ProjectResource> PlaysWhatsAppCloudApiFor(
        this IResourceBuilder<ProjectResource> simulator, IResourceBuilder<ProjectResource> webhook, WhatsAppCloudApi whatsApp)
    {
        webhook
            .WithEnvironment("WHATSAPP_GRAPH_BASE_URL", simulator.GetEndpoint("http"))
            // The simulator is plain http on this machine, with a token made for the run; this lets a run that
            // starts the webhook as Production (the benchmark) talk to it. Never passed for the real Graph API.
            .WithEnvironment("WhatsApp__AllowLoopbackHttpGraphApi", "true");

        return simulator
            .WithEnvironment("WHATSAPP_ACCESS_TOKEN", whatsApp.AccessToken)
            .WithEnvironment("WHATSAPP_PHONE_NUMBER_ID", whatsApp.PhoneNumberId)
            .WithEnvironment("WHATSAPP_APP_SECRET", whatsApp.AppSecret)
            // In development the simulated phone reads Ava's replies; tests decide their statuses themselves.
            .WithEnvironment("SIMULATOR_SEND_STATUSES", (!simulator.ApplicationBuilder.Configuration.GetValue<bool>(InfrastructureSettings.ThrowawayDataKey)).ToString());
    }

    private static string NewSecret() => RandomNumberGenerator.GetHexString(32, lowercase: true);
}
