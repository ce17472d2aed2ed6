using System.Text;

namespace Ava.AppHost.Tunnels;

/// <summary>What to enter in Meta's App Dashboard for a public address of the webhook.</summary>
public static class MetaSetup
{
    /// <summary>The webhook's route (Ava.WebhookApi maps GET and POST there).</summary>
    public const string WebhookPath = "/webhook";

    public static Uri CallbackUrl(Uri publicUrl) => new(publicUrl, WebhookPath);

    /// <summary>The steps, as Markdown for the dashboard.</summary>
    /// <param name="verifyToken">The webhook's verify token, or null when none is configured.</param>
    /// <param name="simulatorAnswers">
    /// Whether the AppHost runs the simulator (no access token configured): then the app secret is one made for the
    /// run, and Meta's signed deliveries cannot pass.
    /// </param>
    public static string Describe(Uri callbackUrl, string? verifyToken, bool simulatorAnswers)
    {
        var text = new StringBuilder();
        if (simulatorAnswers)
        {
            text.AppendLine("**No access token is configured**, so Ava answers through the simulator, with an app secret and a verify " +
                "token made for this run: Meta can verify the callback URL, but its deliveries will be refused (401) until " +
                "the four `whatsapp-*` parameters are set (docs/meta-setup.md, step 4).")
                .AppendLine();
        }

        text.AppendLine("In the Meta App Dashboard: **WhatsApp → Configuration → Webhook → Edit**")
            .AppendLine()
            .AppendLine($"- Callback URL: `{callbackUrl}`")
            .AppendLine($"- Verify token: `{verifyToken ?? "(not configured: set the whatsapp-verify-token parameter)"}`")
            .AppendLine()
            .AppendLine("Then **Verify and save**, and under **Webhook fields** subscribe **messages**.")
            .AppendLine()
            .AppendLine("Once per WhatsApp Business Account, subscribe the app to it (the usual cause of \"verified but no messages\"):")
            .AppendLine()
            .AppendLine("```")
            .AppendLine("curl -X POST -H \"Authorization: Bearer <access token>\" https://graph.facebook.com/<WABA id>/subscribed_apps")
            .AppendLine("```")
            .AppendLine()
            .AppendLine("The tunnel's address changes when it starts again: enter the new callback URL then. " +
                "Step by step and troubleshooting: docs/meta-setup.md.");
        return text.ToString();
    }
}
