using System.Security.Cryptography;
using Ava.AppHost.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace Ava.AppHost.WhatsApp;

/// <summary>
/// Meta's WhatsApp Cloud API as the AppHost sees it: the real one when an access token is configured
/// (<c>Parameters:whatsapp-access-token</c> through user-secrets or environment), otherwise the simulator, with
/// secrets generated for the run and the webhook's Graph API calls pointed at it.
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

    public static IResourceBuilder<ProjectResource> WithWhatsAppCloudApi(this IResourceBuilder<ProjectResource> webhook)
    {
        var builder = webhook.ApplicationBuilder;
        var realMeta = !string.IsNullOrWhiteSpace(builder.Configuration[$"Parameters:{AccessTokenParameter}"]);

        if (realMeta)
        {
            return webhook
                .WithEnvironment("WHATSAPP_ACCESS_TOKEN", builder.AddParameter(AccessTokenParameter, secret: true))
                .WithEnvironment("WHATSAPP_PHONE_NUMBER_ID", builder.AddParameter(PhoneNumberIdParameter))
                .WithEnvironment("WHATSAPP_VERIFY_TOKEN", builder.AddParameter(VerifyTokenParameter, secret: true))
                .WithEnvironment("WHATSAPP_APP_SECRET", builder.AddParameter(AppSecretParameter, secret: true));
        }

        var accessToken = builder.AddParameter(AccessTokenParameter, NewSecret(), secret: true);
        var phoneNumberId = builder.AddParameter(PhoneNumberIdParameter, SimulatedPhoneNumberId);
        var verifyToken = builder.AddParameter(VerifyTokenParameter, NewSecret(), secret: true);
        var appSecret = builder.AddParameter(AppSecretParameter, NewSecret(), secret: true);

        var simulator = builder.AddProject<Projects.Ava_WhatsAppSimulator>(SimulatorName)
            .WithHttpHealthCheck("/health")
            .WithUrlForEndpoint("http", url => url.DisplayText = "Chat with Ava")
            .WithEnvironment("WHATSAPP_ACCESS_TOKEN", accessToken)
            .WithEnvironment("WHATSAPP_PHONE_NUMBER_ID", phoneNumberId)
            .WithEnvironment("WHATSAPP_APP_SECRET", appSecret)
            // In development the simulated phone reads Ava's replies; tests decide their statuses themselves.
            .WithEnvironment("SIMULATOR_SEND_STATUSES", (!builder.Configuration.GetValue<bool>(AvaInfrastructureExtensions.ThrowawayDataKey)).ToString())
            .WithReference(webhook);

        return webhook
            .WithEnvironment("WHATSAPP_ACCESS_TOKEN", accessToken)
            .WithEnvironment("WHATSAPP_PHONE_NUMBER_ID", phoneNumberId)
            .WithEnvironment("WHATSAPP_VERIFY_TOKEN", verifyToken)
            .WithEnvironment("WHATSAPP_APP_SECRET", appSecret)
            .WithEnvironment("WHATSAPP_GRAPH_BASE_URL", simulator.GetEndpoint("http"))
            // The simulator is plain http on this machine, with a token made for the run; this lets a run that
            // starts the webhook as Production (the benchmark) talk to it. Never passed for the real Graph API.
            .WithEnvironment("WhatsApp__AllowLoopbackHttpGraphApi", "true");
    }

    private static string NewSecret() => RandomNumberGenerator.GetHexString(32, lowercase: true);
}
