using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp;

/// <summary>
/// A missing or unsafe setting stops the service at start, naming the variable to set. Every relaxation is asked
/// for by name and is refused where it would be dangerous, so that no environment name alone turns a check off.
/// </summary>
internal sealed class WhatsAppCloudApiOptionsValidator(IHostEnvironment environment) : IValidateOptions<WhatsAppCloudApiOptions>
{
    public ValidateOptionsResult Validate(string? name, WhatsAppCloudApiOptions options)
    {
        List<string> failures = [];

        Require(options.AccessToken, "WHATSAPP_ACCESS_TOKEN", failures);
        Require(options.PhoneNumberId, "WHATSAPP_PHONE_NUMBER_ID", failures);
        Require(options.VerifyToken, "WHATSAPP_VERIFY_TOKEN", failures);
        ValidateSignatureCheck(options, failures);
        ValidateGraphBaseUrl(options, failures);

        if (string.IsNullOrWhiteSpace(options.GraphApiVersion) || options.GraphApiVersion.Contains('/'))
        {
            failures.Add("WHATSAPP_GRAPH_API_VERSION must be a Graph API version such as " + WhatsAppCloudApiOptions.DefaultGraphApiVersion + ".");
        }

        Require(options.RegistrationMessage, "WHATSAPP_REGISTRATION_MESSAGE", failures);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void ValidateSignatureCheck(WhatsAppCloudApiOptions options, List<string> failures)
    {
        if (options.AllowUnsignedDeliveries)
        {
            if (!environment.IsDevelopment())
            {
                failures.Add(
                    $"{WhatsAppCloudApiOptions.AllowUnsignedDeliveriesKey}=true is allowed in Development only (this is " +
                    $"{environment.EnvironmentName}): remove it and set WHATSAPP_APP_SECRET.");
            }

            return;
        }

        if (string.IsNullOrWhiteSpace(options.AppSecret))
        {
            failures.Add(environment.IsDevelopment()
                ? $"WHATSAPP_APP_SECRET is not set (to accept unsigned deliveries in Development, set {WhatsAppCloudApiOptions.AllowUnsignedDeliveriesKey}=true)."
                : "WHATSAPP_APP_SECRET is not set.");
        }
    }

    private void ValidateGraphBaseUrl(WhatsAppCloudApiOptions options, List<string> failures)
    {
        var url = options.GraphBaseUrl;
        if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https"))
        {
            failures.Add("WHATSAPP_GRAPH_BASE_URL must be an absolute http(s) URL.");
            return;
        }

        if (url.Scheme == Uri.UriSchemeHttps || environment.IsDevelopment())
        {
            return;
        }

        if (!options.AllowLoopbackHttpGraphApi)
        {
            failures.Add(
                $"WHATSAPP_GRAPH_BASE_URL must be https outside Development (this is {environment.EnvironmentName}): " +
                "every call carries the access token.");
        }
        else if (!url.IsLoopback)
        {
            failures.Add(
                $"{WhatsAppCloudApiOptions.AllowLoopbackHttpGraphApiKey}=true admits http only to this machine (localhost, " +
                $"127.0.0.1, ::1); WHATSAPP_GRAPH_BASE_URL names {url.Host}.");
        }
    }

    private static void Require(string? value, string variable, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            failures.Add($"{variable} is not set.");
        }
    }
}
