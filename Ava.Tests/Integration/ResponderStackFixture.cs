using System.Net.Http.Json;
using Ava.AppHost.Responding;
using Ava.SampleResponder;

namespace Ava.Tests.Integration;

/// <summary>
/// A stack whose linked users are answered by the sample responder (which records what it was sent, and fails or
/// dawdles for a user when told to), with short retry delays, a short history and a fast typing renewal, so that
/// each behaviour fits in a test.
/// </summary>
public sealed class ResponderStackFixture : AvaStackFixture
{
    public const int HistoryMessages = 4;

    public static readonly TimeSpan TypingRenewal = TimeSpan.FromSeconds(1);

    protected override string[] Arguments => [$"--{ResponderExtensions.ChoiceKey}=sample", $"--{ResponderExtensions.SampleDelayKey}=00:00:00"];

    protected override void Configure(IDistributedApplicationTestingBuilder builder) =>
        builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "webhookapi"))
            .WithEnvironment("WhatsApp__RetryBaseDelay", "00:00:00.200")
            .WithEnvironment("WhatsApp__MaxRetryDelay", "00:00:01")
            .WithEnvironment("WhatsApp__Responder__HistoryMessages", HistoryMessages.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment("WhatsApp__Responder__TypingRenewalInterval", TypingRenewal.ToString());

    public HttpClient Responder => CreateHttpClient(ResponderExtensions.SampleName);

    /// <summary>How the responder treats the user's turns from now on.</summary>
    public async Task BehaveAsync(UserBehaviour behaviour)
    {
        using var response = await Responder.PostAsJsonAsync("/control", behaviour, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Every call of the responder for the user's turns, in the order they started.</summary>
    public async Task<List<RecordedTurn>> TurnsOfAsync(Guid userId) =>
        [.. (await Responder.GetFromJsonAsync<List<RecordedTurn>>($"/turns?userId={userId}", TestContext.Current.CancellationToken) ?? []).OrderBy(t => t.StartedAt)];
}

[CollectionDefinition(Name)]
public sealed class ResponderStackCollection : ICollectionFixture<ResponderStackFixture>
{
    public const string Name = "Ava stack with a responder";
}
