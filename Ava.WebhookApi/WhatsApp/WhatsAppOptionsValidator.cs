using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp;

/// <summary>A missing required setting stops the service at start, naming the variable to set.</summary>
internal sealed class WhatsAppOptionsValidator(IHostEnvironment environment) : IValidateOptions<WhatsAppOptions>
{
    public ValidateOptionsResult Validate(string? name, WhatsAppOptions options)
    {
        List<string> failures = [];

        Require(options.AccessToken, "WHATSAPP_ACCESS_TOKEN", failures);
        Require(options.PhoneNumberId, "WHATSAPP_PHONE_NUMBER_ID", failures);
        Require(options.VerifyToken, "WHATSAPP_VERIFY_TOKEN", failures);
        if (!environment.IsDevelopment())
        {
            Require(options.AppSecret, "WHATSAPP_APP_SECRET", failures);
        }

        if (!options.GraphBaseUrl.IsAbsoluteUri || options.GraphBaseUrl.Scheme is not ("http" or "https"))
        {
            failures.Add("WHATSAPP_GRAPH_BASE_URL must be an absolute http(s) URL.");
        }

        if (string.IsNullOrWhiteSpace(options.GraphApiVersion) || options.GraphApiVersion.Contains('/'))
        {
            failures.Add("WHATSAPP_GRAPH_API_VERSION must be a Graph API version such as " + WhatsAppOptions.DefaultGraphApiVersion + ".");
        }

        Require(options.RegistrationMessage, "WHATSAPP_REGISTRATION_MESSAGE", failures);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Require(string? value, string variable, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            failures.Add($"{variable} is not set.");
        }
    }
}
