using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Ava.AppHost.WhatsApp;
using Ava.WhatsApp.Contracts;
using Ava.WhatsApp.Testing;
using Ava.WhatsAppSimulator;

namespace Ava.Tests.Integration;

/// <summary>
/// Plays Meta and a WhatsApp user against the running stack: builds notifications, posts them signed to the
/// webhook, and reads what the simulated Graph API was sent.
/// </summary>
public sealed class WhatsAppDriver(AvaStackFixture stack)
{
    public const string PhoneNumberId = WhatsAppCloudApiExtensions.SimulatedPhoneNumberId;

    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(30);

    public HttpClient Webhook { get; } = stack.CreateHttpClient("webhookapi");

    public HttpClient Simulator { get; } = stack.CreateHttpClient(WhatsAppCloudApiExtensions.SimulatorName);

    /// <summary>A phone nobody else in the test run uses.</summary>
    public static string NewPhone() => "1555" + Random.Shared.Next(0, 10_000_000).ToString("D7", CultureInfo.InvariantCulture);

    public static string NewWamid() => $"wamid.TEST{Guid.NewGuid():N}";

    /// <summary>A business-scoped user id nobody else in the test run uses, in the form Meta documents.</summary>
    public static string NewUserId() => "US." + string.Concat(Enumerable.Range(0, 20).Select(_ => (char)('0' + Random.Shared.Next(10))));

    public static WebhookMessage Text(string from, string text, string? wamid = null) =>
        WebhookNotifications.Text(from, text, wamid ?? NewWamid(), DateTimeOffset.UtcNow);

    public static WebhookMessage Message(string? from, string type, string? wamid = null) =>
        WebhookNotifications.Message(from, type, wamid ?? NewWamid(), DateTimeOffset.UtcNow);

    /// <summary>A media message carrying media uploaded to the simulator (<see cref="UploadMediaAsync"/>), as Meta's webhook shapes it.</summary>
    /// <param name="type">image, audio, video, document or sticker.</param>
    /// <param name="voice">An audio recorded as a voice note.</param>
    public static WebhookMessage Media(
        string phone, string type, UploadedMedia media, string? caption = null, string? filename = null, bool? voice = null, string? wamid = null) =>
        WebhookNotifications.Media(
            phone, type, new WebhookMedia(media.Id, media.MimeType, media.Sha256, caption, filename, voice), wamid ?? NewWamid(), DateTimeOffset.UtcNow);

    public static WebhookChange Messages(params WebhookMessage[] messages) => WebhookNotifications.Messages(PhoneNumberId, messages);

    public static WebhookChange Statuses(params WebhookStatus[] statuses) => WebhookNotifications.Statuses(PhoneNumberId, statuses);

    /// <param name="recipient">The recipient's phone; null for a message sent to a user id whose phone Meta withholds.</param>
    /// <param name="callbackData">What the send carried as <c>biz_opaque_callback_data</c>, which Meta repeats.</param>
    public static WebhookStatus Status(string wamid, string status, string? recipient, WhatsAppError? error = null, string? callbackData = null) => new(
        wamid, status, DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), recipient,
        error is null ? null : [error], callbackData);

    public static byte[] Notification(params WebhookChange[] changes) => WebhookNotifications.Serialize(changes);

    public static byte[] Notification(WebhookEntry[] entries) => WebhookNotifications.Serialize(entries);

    /// <summary>Posts a body to the webhook signed with the app secret, as Meta does.</summary>
    public async Task<HttpResponseMessage> PostSignedAsync(byte[] body) =>
        await PostAsync(body, WebhookSignature.Compute(await stack.GetParameterAsync(WhatsAppCloudApiExtensions.AppSecretParameter), body));

    public async Task<HttpResponseMessage> PostAsync(byte[] body, string? signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        if (signature is not null)
        {
            request.Headers.Add(WebhookSignature.HeaderName, signature);
        }

        return await Webhook.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>Has the simulator deliver a text as Meta would (with only <c>UserId</c>: from a user who adopted a username).</summary>
    public async Task<DeliveryResult> WriteThroughSimulatorAsync(TextMessageToDeliver message)
    {
        using var response = await Simulator.PostAsJsonAsync("/simulator/messages", message, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<DeliveryResult>(TestContext.Current.CancellationToken))!;
    }

    /// <summary>Has the simulator tell Ava, as Meta's <c>user_id_update</c> does, that a user's user id was replaced.</summary>
    public async Task<DeliveryResult> ReplaceUserIdAsync(string previous, string current)
    {
        using var response = await Simulator.PostAsJsonAsync(
            "/simulator/user-id-updates", new UserIdUpdateToDeliver(previous, current), TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<DeliveryResult>(TestContext.Current.CancellationToken))!;
    }

    /// <param name="phone">A phone, or a business-scoped user id the sends were addressed to.</param>
    public async Task<List<RecordedSend>> SendsToAsync(string phone) =>
        await Simulator.GetFromJsonAsync<List<RecordedSend>>($"/simulator/sends?to={phone}", TestContext.Current.CancellationToken) ?? [];

    /// <summary>Waits until the simulator has accepted <paramref name="count"/> sends to the phone, then a moment longer to catch extras.</summary>
    public async Task<List<RecordedSend>> AcceptedSendsToAsync(string phone, int count)
    {
        var accepted = await EventuallyAsync(async () => (await SendsToAsync(phone)).Where(s => s.HttpStatus == 200).ToList(), s => s.Count >= count);
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        return (await SendsToAsync(phone)).Where(s => s.HttpStatus == 200).ToList();
    }

    public async Task FailNextSendsAsync(string phone, int count, int httpStatus, int code, string title, int? retryAfterSeconds = null)
    {
        using var response = await Simulator.PostAsJsonAsync(
            "/simulator/failures", new InjectedFailure(count, httpStatus, code, title, phone, retryAfterSeconds), TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The simulated Graph API takes this long to accept the next sends to the phone.</summary>
    public async Task DelayNextSendsAsync(string phone, int count, double seconds)
    {
        using var response = await Simulator.PostAsJsonAsync(
            "/simulator/failures", new InjectedFailure(count, 200, null, null, phone, DelaySeconds: seconds), TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The simulated Graph API accepts the next send to the phone at once but answers only after this long.</summary>
    public async Task AnswerNextSendLateAsync(string phone, double seconds)
    {
        using var response = await Simulator.PostAsJsonAsync(
            "/simulator/failures", new InjectedFailure(1, 200, null, null, phone, AnswerDelaySeconds: seconds), TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The read receipts (with the typing indicator) Ava sent for a message.</summary>
    public async Task<List<RecordedRead>> ReadsOfAsync(string wamid) =>
        await Simulator.GetFromJsonAsync<List<RecordedRead>>($"/simulator/reads?messageId={Uri.EscapeDataString(wamid)}", TestContext.Current.CancellationToken) ?? [];

    /// <summary>The simulated Graph API answers the next read receipt of the message with this failure.</summary>
    public async Task FailNextReadReceiptAsync(string wamid, int httpStatus, int code, string title)
    {
        using var response = await Simulator.PostAsJsonAsync(
            "/simulator/failures", new InjectedFailure(1, httpStatus, code, title, wamid, ReadReceipts: true), TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Makes the access token expire (every Graph call is refused with Meta's code 190) or work again.</summary>
    public async Task SetAccessTokenValidAsync(bool valid)
    {
        using var response = await Simulator.PostAsJsonAsync("/simulator/token", new TokenValidity(valid), TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Has the simulator keep these bytes as a customer's media, which Ava may then look up and download as from Meta.</summary>
    /// <param name="id">The media id to give it; a new one, digits like Meta's, when null.</param>
    /// <param name="urlLifetime">How long its download URLs live, when not Meta's 5 minutes.</param>
    public async Task<UploadedMedia> UploadMediaAsync(byte[] bytes, string mimeType, string? id = null, TimeSpan? urlLifetime = null)
    {
        var query = new List<string>();
        if (id is not null)
        {
            query.Add($"id={Uri.EscapeDataString(id)}");
        }

        if (urlLifetime is { } lifetime)
        {
            query.Add($"urlLifetimeSeconds={lifetime.TotalSeconds.ToString(CultureInfo.InvariantCulture)}");
        }

        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(mimeType);
        using var response = await Simulator.PostAsync(
            query.Count == 0 ? "/simulator/media" : $"/simulator/media?{string.Join('&', query)}", content, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(SimulatorJsonContext.Default.UploadedMedia, TestContext.Current.CancellationToken))!;
    }

    /// <summary>Has the simulator deliver a media message of uploaded media, as Meta would.</summary>
    public async Task<DeliveryResult> SendMediaThroughSimulatorAsync(MediaMessageToDeliver message)
    {
        using var response = await Simulator.PostAsJsonAsync(
            "/simulator/media-messages", message, SimulatorJsonContext.Default.MediaMessageToDeliver, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(SimulatorJsonContext.Default.DeliveryResult, TestContext.Current.CancellationToken))!;
    }

    /// <summary>
    /// The next <paramref name="count"/> URL lookups or downloads of the media answer <paramref name="httpStatus"/>
    /// (with Meta's error <paramref name="code"/> at the URL stage), after <paramref name="delaySeconds"/> if given;
    /// with 200, they are only late, or — <paramref name="corrupt"/> — download other bytes of the same length.
    /// </summary>
    public async Task FailNextMediaAsync(
        string mediaId, MediaStage stage, int count, int httpStatus, int? code = null, double? delaySeconds = null, bool corrupt = false)
    {
        using var response = await Simulator.PostAsJsonAsync(
            "/simulator/media-failures",
            new MediaFailure(stage, mediaId, count, httpStatus, code, DelaySeconds: delaySeconds, Corrupt: corrupt),
            SimulatorJsonContext.Default.MediaFailure,
            TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Makes the simulator forget the media id, as Meta does 7 days after the message.</summary>
    public async Task ExpireMediaAsync(string mediaId)
    {
        using var response = await Simulator.PostAsync(
            $"/simulator/media/{Uri.EscapeDataString(mediaId)}/expire", content: null, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Every URL lookup and download of the media the simulator answered, in order.</summary>
    public async Task<IReadOnlyList<RecordedMediaRequest>> MediaRequestsAsync(string mediaId) =>
        await Simulator.GetFromJsonAsync(
            $"/simulator/media-requests?mediaId={Uri.EscapeDataString(mediaId)}",
            SimulatorJsonContext.Default.IReadOnlyListRecordedMediaRequest,
            TestContext.Current.CancellationToken) ?? [];

    /// <summary>What the webhook's <c>/health</c> answers (one instance's, whichever the proxy picks).</summary>
    public async Task<string> HealthAsync()
    {
        using var response = await Webhook.GetAsync("/health", TestContext.Current.CancellationToken);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? patience = null)
    {
        var deadline = DateTimeOffset.UtcNow + (patience ?? s_patience);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTimeOffset.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken);
        }
    }
}
