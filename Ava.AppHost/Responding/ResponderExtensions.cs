namespace Ava.AppHost.Responding;

/// <summary>Who answers linked users: Ava's own echo, a responder at a URL, or the sample responder.</summary>
/// <param name="Url">The responder's URL (a parameter); null for the echo and the sample, whose URL is its endpoint.</param>
/// <param name="Secret">The key Ava signs turns with; null for the echo.</param>
public sealed record Responder(IResourceBuilder<ParameterResource>? Url, IResourceBuilder<ParameterResource>? Secret, bool IsSample)
{
    public bool IsEcho => Url is null && !IsSample;
}

/// <summary>
/// The responder as the AppHost sees it: the one at <c>Parameters:responder-url</c> (user-secrets or environment, with
/// <c>responder-secret</c>) when configured; the sample responder when asked for in run mode (<c>Ava:Responder=sample</c>),
/// answering after <c>Ava:SampleResponderDelay</c> (2 s by default) with a secret made for the run; otherwise none,
/// and Ava echoes.
/// </summary>
public static class ResponderExtensions
{
    public const string UrlParameter = "responder-url";
    public const string SecretParameter = "responder-secret";
    public const string SampleName = "responder";
    public const string ChoiceKey = "Ava:Responder";
    public const string SampleDelayKey = "Ava:SampleResponderDelay";

    public static Responder AddResponder(this IDistributedApplicationBuilder builder)
    {
        if (!string.IsNullOrWhiteSpace(builder.Configuration[$"Parameters:{UrlParameter}"]))
        {
            return new Responder(builder.AddParameter(UrlParameter), builder.AddParameter(SecretParameter, secret: true), IsSample: false);
        }

        if (!builder.ExecutionContext.IsPublishMode && string.Equals(builder.Configuration[ChoiceKey], "sample", StringComparison.OrdinalIgnoreCase))
        {
            var secret = builder.AddParameter(SecretParameter, new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
            return new Responder(Url: null, secret, IsSample: true);
        }

        return new Responder(Url: null, Secret: null, IsSample: false);
    }

    /// <summary>The webhook's side: where it posts turns and the key it signs them with (nothing for the echo).</summary>
    public static IResourceBuilder<ProjectResource> WithResponder(this IResourceBuilder<ProjectResource> webhook, Responder responder) =>
        responder is { Url: { } url, Secret: { } secret }
            ? webhook.WithEnvironment("WhatsApp__Responder__Url", url).WithEnvironment("WhatsApp__Responder__Secret", secret)
            : webhook;

    /// <summary>The sample responder answers the webhook's turns: the webhook posts them to its endpoint, signed with the run's secret.</summary>
    public static IResourceBuilder<ProjectResource> AnswersTurnsFor(
        this IResourceBuilder<ProjectResource> sample, IResourceBuilder<ProjectResource> webhook, Responder responder)
    {
        var secret = responder.Secret ?? throw new InvalidOperationException("The sample responder needs the responder secret.");
        webhook
            .WithEnvironment("WhatsApp__Responder__Url", ReferenceExpression.Create($"{sample.GetEndpoint("http")}/turns"))
            .WithEnvironment("WhatsApp__Responder__Secret", secret)
            .WaitFor(sample);

        return sample
            .WithEnvironment("SampleResponder__Secret", secret)
            .WithEnvironment("SampleResponder__Delay", sample.ApplicationBuilder.Configuration[SampleDelayKey] ?? "00:00:02");
    }
}
