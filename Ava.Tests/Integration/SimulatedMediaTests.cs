using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Ava.AppHost.WhatsApp;
using Ava.WhatsApp.Contracts;
using Ava.WhatsAppSimulator;

namespace Ava.Tests.Integration;

/// <summary>
/// The simulator serves a customer's media as Meta does — a media id, a short-lived URL, the bytes, both steps with the
/// access token — so that Ava's downloading can be tested against it: these tests hold the simulator to that.
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class SimulatedMediaTests(AvaStackFixture stack)
{
    private const string GraphVersion = "v25.0";

    private readonly WhatsAppDriver _whatsApp = new(stack);
    private readonly AvaDatabase _database = new(stack);

    [Fact]
    public async Task Uploaded_media_is_looked_up_and_downloaded_with_the_access_token_byte_for_byte()
    {
        var bytes = RandomNumberGenerator.GetBytes(300_000);
        var media = await _whatsApp.UploadMediaAsync(bytes, "image/jpeg");

        var url = await LookUpAsync(media.Id);
        using var download = await GetAsync(url.Url!, await AccessTokenAsync());

        var sha256 = SHA256.HashData(bytes);
        Assert.Equal(Convert.ToBase64String(sha256), media.Sha256);
        Assert.Equal(("image/jpeg", bytes.LongLength), (media.MimeType, media.FileSize));
        Assert.Equal(
            new MediaDownloadUrl("whatsapp", url.Url, "image/jpeg", Convert.ToHexStringLower(sha256), bytes.LongLength, media.Id),
            url);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("image/jpeg", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal(bytes.LongLength, download.Content.Headers.ContentLength);
        Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        Assert.Equal(
            [(MediaStage.Url, 200, (long?)null), (MediaStage.Download, 200, bytes.LongLength)],
            await RequestsAsync(media.Id, 2));
    }

    [Fact]
    public async Task Without_the_access_token_neither_the_lookup_nor_the_download_answers()
    {
        var media = await _whatsApp.UploadMediaAsync(RandomNumberGenerator.GetBytes(1_000), "audio/ogg");
        var url = await LookUpAsync(media.Id);

        using var lookupWithout = await GetAsync($"/{GraphVersion}/{media.Id}", token: null);
        using var lookupWrong = await GetAsync($"/{GraphVersion}/{media.Id}", token: "not-the-token");
        using var downloadWithout = await GetAsync(url.Url!, token: null);

        Assert.Equal(
            [HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized],
            [lookupWithout.StatusCode, lookupWrong.StatusCode, downloadWithout.StatusCode]);
        Assert.Equal(190, (await GraphErrorAsync(lookupWithout)).Code);
        Assert.Equal(
            [(MediaStage.Url, 200, null), (MediaStage.Url, 401, null), (MediaStage.Url, 401, null), (MediaStage.Download, 401, 0L)],
            await RequestsAsync(media.Id, 4));
    }

    [Fact]
    public async Task A_url_past_its_lifetime_answers_404_and_a_fresh_lookup_gives_one_that_works()
    {
        var bytes = RandomNumberGenerator.GetBytes(1_000);
        var media = await _whatsApp.UploadMediaAsync(bytes, "image/png", urlLifetime: TimeSpan.FromSeconds(1));
        var token = await AccessTokenAsync();
        var stale = await LookUpAsync(media.Id);

        await Task.Delay(TimeSpan.FromSeconds(1.5), TestContext.Current.CancellationToken);
        using var expired = await GetAsync(stale.Url!, token);
        using var fresh = await GetAsync((await LookUpAsync(media.Id)).Url!, token);

        Assert.Equal(HttpStatusCode.NotFound, expired.StatusCode);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.Equal(bytes, await fresh.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_forgotten_media_id_is_an_unknown_object_and_its_urls_stop_working()
    {
        var media = await _whatsApp.UploadMediaAsync(RandomNumberGenerator.GetBytes(1_000), "image/png");
        var url = await LookUpAsync(media.Id);

        await _whatsApp.ExpireMediaAsync(media.Id);
        using var lookup = await GetAsync($"/{GraphVersion}/{media.Id}", await AccessTokenAsync());
        using var download = await GetAsync(url.Url!, await AccessTokenAsync());

        Assert.Equal(HttpStatusCode.BadRequest, lookup.StatusCode);
        var error = await GraphErrorAsync(lookup);
        Assert.Equal((100, 33), (error.Code, error.ErrorSubcode));
        Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
    }

    [Fact]
    public async Task The_failure_switch_fails_exactly_count_requests_of_its_stage()
    {
        var bytes = RandomNumberGenerator.GetBytes(1_000);
        var media = await _whatsApp.UploadMediaAsync(bytes, "image/jpeg");
        var token = await AccessTokenAsync();
        await _whatsApp.FailNextMediaAsync(media.Id, MediaStage.Url, 2, 500, 131000);
        await _whatsApp.FailNextMediaAsync(media.Id, MediaStage.Download, 2, 503);

        var lookups = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var lookup = await GetAsync($"/{GraphVersion}/{media.Id}", token);
            lookups.Add(lookup.StatusCode);
            if (lookup.StatusCode != HttpStatusCode.OK)
            {
                Assert.Equal(131000, (await GraphErrorAsync(lookup)).Code);
            }
        }

        var url = await LookUpAsync(media.Id);
        var downloads = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var download = await GetAsync(url.Url!, token);
            downloads.Add(download.StatusCode);
        }

        Assert.Equal([HttpStatusCode.InternalServerError, HttpStatusCode.InternalServerError, HttpStatusCode.OK], lookups);
        Assert.Equal([HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK], downloads);
        Assert.Equal(
            [
                (MediaStage.Url, 500, null), (MediaStage.Url, 500, null), (MediaStage.Url, 200, null), (MediaStage.Url, 200, null),
                (MediaStage.Download, 503, 0L), (MediaStage.Download, 503, 0L), (MediaStage.Download, 200, bytes.LongLength),
            ],
            await RequestsAsync(media.Id, 7));
    }

    [Fact]
    public async Task A_corrupt_download_serves_other_bytes_of_the_same_length_once()
    {
        var bytes = RandomNumberGenerator.GetBytes(100_000);
        var media = await _whatsApp.UploadMediaAsync(bytes, "video/mp4");
        var token = await AccessTokenAsync();
        await _whatsApp.FailNextMediaAsync(media.Id, MediaStage.Download, 1, 200, corrupt: true);
        var url = await LookUpAsync(media.Id);

        using var corrupt = await GetAsync(url.Url!, token);
        using var intact = await GetAsync(url.Url!, token);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (corrupt.StatusCode, intact.StatusCode));
        var corruptBytes = await corrupt.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        Assert.Equal(bytes.Length, corruptBytes.Length);
        Assert.NotEqual(Convert.ToBase64String(SHA256.HashData(corruptBytes)), media.Sha256);
        Assert.Equal(bytes, await intact.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_media_message_reaches_the_webhook_carrying_the_uploaded_media_as_meta_shapes_it()
    {
        var phone = WhatsAppDriver.NewPhone();
        var media = await _whatsApp.UploadMediaAsync(RandomNumberGenerator.GetBytes(2_000), "audio/ogg; codecs=opus");

        var result = await _whatsApp.SendMediaThroughSimulatorAsync(new MediaMessageToDeliver("audio", media.Id, phone, Voice: true));

        Assert.Equal(200, result.Status);
        var body = await _database.ScalarAsync<byte[]>(
            "SELECT body FROM inbound_deliveries WHERE convert_from(body, 'UTF8') LIKE '%' || $1 || '%'", result.Wamid!);
        var message = Assert.Single(JsonSerializer.Deserialize(body, WhatsAppJsonContext.Default.WebhookNotification)!.Entry![0].Changes![0].Value!.Messages!);
        Assert.Equal((phone, "audio"), (message.From, message.Type));
        Assert.Equal(WhatsAppDriver.Media(phone, "audio", media, voice: true).Audio, message.Audio);
        Assert.Equal(new WebhookMedia(media.Id, "audio/ogg; codecs=opus", media.Sha256, null, null, Voice: true), message.Audio);
    }

    private Task<string> AccessTokenAsync() => stack.GetParameterAsync(WhatsAppCloudApiExtensions.AccessTokenParameter);

    private async Task<MediaDownloadUrl> LookUpAsync(string mediaId)
    {
        using var response = await GetAsync($"/{GraphVersion}/{mediaId}", await AccessTokenAsync());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(WhatsAppJsonContext.Default.MediaDownloadUrl, TestContext.Current.CancellationToken))!;
    }

    /// <param name="url">A path on the simulator, or the absolute URL a lookup answered.</param>
    private async Task<HttpResponseMessage> GetAsync(string url, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await _whatsApp.Simulator.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static async Task<GraphError> GraphErrorAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync(WhatsAppJsonContext.Default.GraphErrorResponse, TestContext.Current.CancellationToken))!.Error!;

    /// <summary>
    /// The media's recorded requests as (stage, status, bytes served), once there are <paramref name="count"/>: a
    /// download is recorded just after its last byte went out.
    /// </summary>
    private async Task<List<(MediaStage Stage, int HttpStatus, long? Bytes)>> RequestsAsync(string mediaId, int count) =>
        [.. (await WhatsAppDriver.EventuallyAsync(() => _whatsApp.MediaRequestsAsync(mediaId), r => r.Count >= count))
            .Select(r => (r.Stage, r.HttpStatus, r.Bytes))];
}
