namespace Ava.WebhookApi.WhatsApp.Responding;

/// <summary>
/// Who answers a linked user (<c>WhatsApp:Responder</c>): without <see cref="Url"/>, Ava's own echo; with it, each
/// message becomes a turn posted to that URL (see docs/responder.md).
/// </summary>
public sealed class ResponderOptions
{
    public const string SectionName = "WhatsApp:Responder";

    /// <summary>Where turns are posted; none: Ava echoes.</summary>
    public Uri? Url { get; set; }

    /// <summary>Key of each turn's <c>X-Ava-Signature-256</c> (required with <see cref="Url"/>).</summary>
    public string? Secret { get; set; }

    /// <summary>How long one call may take before it counts as failed and is retried.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many of the user's latest messages each turn carries as history.</summary>
    public int HistoryMessages { get; set; } = 20;

    /// <summary>Sent instead of an answer when the responder refuses a turn or the user's window closes first; empty: nothing.</summary>
    public string FallbackMessage { get; set; } = "Sorry, I can't answer that right now. Please try again in a little while.";

    /// <summary>Turns one instance composes at once (each waits for the responder).</summary>
    public int MaxConcurrentTurns { get; set; } = 256;

    /// <summary>How often the typing indicator is shown again while a turn is composed: Meta shows it for 25 s at most.</summary>
    public TimeSpan TypingRenewalInterval { get; set; } = TimeSpan.FromSeconds(20);

    public bool Enabled => Url is not null;

    /// <returns>What is wrong with these settings, or null when they hold together.</returns>
    public string? Problem() =>
        Url is { } url && (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https")) ? "WhatsApp:Responder:Url must be an absolute http or https URL."
        : Enabled && string.IsNullOrWhiteSpace(Secret) ? "WhatsApp:Responder:Secret is required with WhatsApp:Responder:Url: the responder must be able to tell Ava's turns from anybody else's."
        : Timeout < TimeSpan.FromSeconds(1) || Timeout > TimeSpan.FromMinutes(10) ? "WhatsApp:Responder:Timeout must be between a second and ten minutes."
        : HistoryMessages is < 0 or > 500 ? "WhatsApp:Responder:HistoryMessages must be between 0 and 500."
        : MaxConcurrentTurns is < 1 or > 10_000 ? "WhatsApp:Responder:MaxConcurrentTurns must be between 1 and 10,000."
        : TypingRenewalInterval < TimeSpan.FromSeconds(1) || TypingRenewalInterval >= TimeSpan.FromSeconds(25) ? "WhatsApp:Responder:TypingRenewalInterval must be between a second and Meta's 25 s."
        : FallbackMessage.Length > 4096 ? "WhatsApp:Responder:FallbackMessage must fit one WhatsApp message (4,096 characters)."
        : null;
}
