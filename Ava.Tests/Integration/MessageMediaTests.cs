using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Ava.Data.Media;

namespace Ava.Tests.Integration;

/// <summary>
/// The media a linked user sent shows in their history, and once Ava kept it, streams back to them from the messages
/// API — whole, by range for players that seek, or not at all when they have it already — and to nobody else.
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class MessageMediaTests(AvaStackFixture stack)
{
    /// <summary>More than two of the store's chunks, so that ranges cross from one to the next.</summary>
    private const int PhotoLength = 600_000;

    private readonly AvaDatabase _database = new(stack);
    private readonly WhatsAppDriver _whatsApp = new(stack);
    private readonly AvaTokens _tokens = new(stack);

    [Fact]
    public async Task A_kept_photo_streams_back_to_its_owner_byte_for_byte_with_its_type_length_etag_and_date()
    {
        var photo = await KeptAsync("image", "image/jpeg", RandomNumberGenerator.GetBytes(PhotoLength), caption: "the garden");
        using var client = await _tokens.ClientForAsync(photo.UserId);

        using var response = await client.GetAsync($"/messages/{photo.MessageId}/media", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(photo.Bytes, await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        Assert.Equal("image/jpeg", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((long)PhotoLength, response.Content.Headers.ContentLength);
        Assert.Equal($"\"{Convert.ToHexStringLower(SHA256.HashData(photo.Bytes))}\"", response.Headers.ETag?.Tag);
        Assert.False(response.Headers.ETag!.IsWeak);
        Assert.Equal("bytes", Assert.Single(response.Headers.AcceptRanges));
        var storedAt = await _database.ScalarAsync<DateTimeOffset>("SELECT stored_at FROM media_files WHERE message_id = $1", photo.MessageId);
        Assert.Equal(storedAt.ToUnixTimeSeconds(), response.Content.Headers.LastModified?.ToUnixTimeSeconds());
        Assert.Null(response.Content.Headers.ContentDisposition);
    }

    [Fact]
    public async Task The_history_item_of_a_media_message_carries_its_media_and_every_other_item_none()
    {
        var photo = await KeptAsync("image", "image/jpeg", RandomNumberGenerator.GetBytes(50_000), caption: "the garden");
        using var client = await _tokens.ClientForAsync(photo.UserId);

        var items = (await client.GetFromJsonAsync<JsonElement>("/messages", TestContext.Current.CancellationToken)).EnumerateArray().ToList();

        var withMedia = Assert.Single(items, item => item.GetProperty("media").ValueKind != JsonValueKind.Null);
        Assert.Equal(photo.MessageId, withMedia.GetProperty("id").GetGuid());
        Assert.Equal("the garden", withMedia.GetProperty("content").GetString());
        var media = withMedia.GetProperty("media");
        Assert.Equal(
            ["id", "type", "mime_type", "size", "file_name", "caption", "sha256", "status"],
            media.EnumerateObject().Select(p => p.Name));
        Assert.Equal(
            (photo.MessageId, "image", "image/jpeg", 50_000L, JsonValueKind.Null, "the garden", Convert.ToHexStringLower(SHA256.HashData(photo.Bytes)), "stored"),
            (media.GetProperty("id").GetGuid(), media.GetProperty("type").GetString(), media.GetProperty("mime_type").GetString(),
                media.GetProperty("size").GetInt64(), media.GetProperty("file_name").ValueKind, media.GetProperty("caption").GetString(),
                media.GetProperty("sha256").GetString(), media.GetProperty("status").GetString()));

        // The echo of the caption is text only.
        var echo = Assert.Single(items, item => item.GetProperty("role").GetString() == "assistant");
        Assert.Equal(JsonValueKind.Null, echo.GetProperty("media").ValueKind);
    }

    [Fact]
    public async Task Another_users_media_an_unknown_id_and_a_text_message_are_all_the_same_404()
    {
        var photo = await KeptAsync("image", "image/jpeg", RandomNumberGenerator.GetBytes(10_000));
        await SendAsync(WhatsAppDriver.Text(photo.Phone, "only words"));
        await _whatsApp.AcceptedSendsToAsync(photo.Phone, 1);
        var text = await _database.ScalarAsync<Guid>(
            "SELECT id FROM messages WHERE user_id = $1 AND role = 'user' AND content = 'only words'", photo.UserId);
        using var stranger = await _tokens.ClientForAsync(Guid.NewGuid());
        using var owner = await _tokens.ClientForAsync(photo.UserId);

        List<HttpResponseMessage> responses =
        [
            await stranger.GetAsync($"/messages/{photo.MessageId}/media", TestContext.Current.CancellationToken),
            await owner.GetAsync($"/messages/{Guid.NewGuid()}/media", TestContext.Current.CancellationToken),
            await owner.GetAsync("/messages/not-an-id/media", TestContext.Current.CancellationToken),
            await owner.GetAsync($"/messages/{text}/media", TestContext.Current.CancellationToken),
        ];

        foreach (var response in responses)
        {
            using (response)
            {
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
                Assert.Equal("No such media", problem.GetProperty("title").GetString());
            }
        }
    }

    [Theory]
    [InlineData(262_000L, 263_999L)]
    [InlineData(0L, 0L)]
    [InlineData(524_288L, (long)PhotoLength - 1)]
    public async Task A_range_is_a_206_of_exactly_those_bytes_even_across_a_chunk_boundary(long first, long last)
    {
        var photo = await KeptAsync("image", "image/jpeg", RandomNumberGenerator.GetBytes(PhotoLength));
        using var client = await _tokens.ClientForAsync(photo.UserId);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/messages/{photo.MessageId}/media") { Headers = { Range = new RangeHeaderValue(first, last) } };

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        var range = response.Content.Headers.ContentRange!;
        Assert.Equal(("bytes", first, last, (long)PhotoLength), (range.Unit, range.From!.Value, range.To!.Value, range.Length!.Value));
        Assert.Equal(last - first + 1, response.Content.Headers.ContentLength);
        Assert.Equal(photo.Bytes[(int)first..(int)(last + 1)], await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Asking_again_with_its_etag_is_a_304_without_the_bytes()
    {
        var photo = await KeptAsync("image", "image/png", RandomNumberGenerator.GetBytes(20_000));
        using var client = await _tokens.ClientForAsync(photo.UserId);
        using var first = await client.GetAsync($"/messages/{photo.MessageId}/media", TestContext.Current.CancellationToken);
        using var again = new HttpRequestMessage(HttpMethod.Get, $"/messages/{photo.MessageId}/media") { Headers = { IfNoneMatch = { first.Headers.ETag! } } };

        using var response = await client.SendAsync(again, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        Assert.Equal(first.Headers.ETag, response.Headers.ETag);
    }

    [Fact]
    public async Task A_document_comes_as_an_attachment_named_as_its_sender_named_it()
    {
        var document = await KeptAsync("document", "application/pdf", RandomNumberGenerator.GetBytes(30_000), filename: "lease 2026 – signed.pdf");
        using var client = await _tokens.ClientForAsync(document.UserId);

        using var response = await client.GetAsync($"/messages/{document.MessageId}/media", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/pdf", response.Content.Headers.ContentType?.MediaType);
        var disposition = response.Content.Headers.ContentDisposition!;
        Assert.Equal("attachment", disposition.DispositionType);
        Assert.Equal("lease 2026 – signed.pdf", disposition.FileNameStar);
        Assert.Equal(document.Bytes, await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Media_too_large_to_keep_is_a_409_naming_its_status_as_the_history_does()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        var huge = await _whatsApp.UploadMediaAsync(RandomNumberGenerator.GetBytes(6 * 1024 * 1024), "image/png");
        await SendAsync(WhatsAppDriver.Media(phone, "image", huge, caption: "a big one"));
        var messageId = await EventualMessageOfAsync(huge.Id, "too_large");
        using var client = await _tokens.ClientForAsync(userId);

        using var response = await client.GetAsync($"/messages/{messageId}/media", TestContext.Current.CancellationToken);
        var history = await client.GetFromJsonAsync<JsonElement>("/messages", TestContext.Current.CancellationToken);

        Assert.Equal("too_large", await ConflictStatusAsync(response));
        var media = history.EnumerateArray().Single(item => item.GetProperty("id").GetGuid() == messageId).GetProperty("media");
        Assert.Equal(("too_large", 6L * 1024 * 1024), (media.GetProperty("status").GetString(), media.GetProperty("size").GetInt64()));
    }

    [Fact]
    public async Task Media_not_fetched_yet_is_a_409_saying_it_is_pending()
    {
        var (_, userId) = await _database.LinkedUserAsync();

        var (messageId, _) = await RecordMediaAsync(userId);
        using var client = await _tokens.ClientForAsync(userId);

        using var response = await client.GetAsync($"/messages/{messageId}/media", TestContext.Current.CancellationToken);

        Assert.Equal("pending", await ConflictStatusAsync(response));
    }

    [Fact]
    public async Task Chunks_that_do_not_add_up_to_the_size_are_a_503_not_a_short_download()
    {
        var (_, userId) = await _database.LinkedUserAsync();
        var (messageId, mediaId) = await RecordMediaAsync(
            userId, $"status = 'stored', size = {PhotoLength}, chunk_size = {PostgresMediaStore.ChunkSize}, stored_at = now()");
        for (var seq = 0; seq < 2; seq++)
        {
            // The last of the three chunks is missing.
            await _database.ExecuteAsync(
                "INSERT INTO media_chunks (media_id, seq, user_id, data) VALUES ($1, $2, $3, $4)",
                mediaId, seq, userId, RandomNumberGenerator.GetBytes(PostgresMediaStore.ChunkSize));
        }

        using var client = await _tokens.ClientForAsync(userId);

        using var response = await client.GetAsync($"/messages/{messageId}/media", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_api_reference_describes_the_media_its_ranges_its_etag_and_its_problems()
    {
        using var client = stack.CreateHttpClient("messagesapi");

        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", TestContext.Current.CancellationToken);

        var get = document.GetProperty("paths").GetProperty("/messages/{id}/media").GetProperty("get");
        Assert.Equal(
            ["200", "206", "304", "404", "409", "503"],
            get.GetProperty("responses").EnumerateObject().Select(r => r.Name).Intersect(["200", "206", "304", "404", "409", "503"]).Order());
        Assert.Equal("binary", get.GetProperty("responses").GetProperty("206").GetProperty("content").GetProperty("*/*").GetProperty("schema").GetProperty("format").GetString());
        Assert.True(get.GetProperty("responses").GetProperty("200").GetProperty("headers").TryGetProperty("ETag", out _));
        Assert.Contains(get.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "Range" && p.GetProperty("in").GetString() == "header");
    }

    /// <summary>Media a new linked user sent through Meta's webhook, once Ava has kept it.</summary>
    private async Task<SentMedia> KeptAsync(string type, string mimeType, byte[] bytes, string? caption = null, string? filename = null)
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        var media = await _whatsApp.UploadMediaAsync(bytes, mimeType);
        await SendAsync(WhatsAppDriver.Media(phone, type, media, caption: caption, filename: filename));
        var messageId = await EventualMessageOfAsync(media.Id, "stored");
        if (caption is not null)
        {
            // The echo of the caption, so that the history is complete.
            await _whatsApp.AcceptedSendsToAsync(phone, 1);
        }

        return new SentMedia(phone, userId, messageId, bytes);
    }

    private async Task SendAsync(Ava.WhatsApp.Contracts.WebhookMessage message)
    {
        using var response = await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(message)));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The history line of the media, once the media is <paramref name="status"/>.</summary>
    private async Task<Guid> EventualMessageOfAsync(string metaMediaId, string status)
    {
        var reached = await WhatsAppDriver.EventuallyAsync(
            async () => (await _database.QueryAsync("SELECT status::text, message_id FROM media_files WHERE meta_media_id = $1", row => (row.GetString(0), row.GetGuid(1)), metaMediaId)).SingleOrDefault(),
            row => row.Item1 == status);
        Assert.Equal(status, reached.Item1);
        return reached.Item2;
    }

    /// <summary>
    /// A photo's history line and media as the webhook records them, its download not due before tomorrow; then
    /// <paramref name="set"/>, if any, applied to the media.
    /// </summary>
    private async Task<(Guid MessageId, long MediaId)> RecordMediaAsync(Guid userId, string? set = null)
    {
        var messageId = Guid.CreateVersion7();
        var wamid = WhatsAppDriver.NewWamid();
        await _database.ExecuteAsync(
            "INSERT INTO messages (id, user_id, channel, role, content, created_at, external_id) VALUES ($1, $2, 'whatsapp', 'user', '[image]', now(), $3)",
            messageId, userId, wamid);
        var mediaId = await _database.ScalarAsync<long>(
            """
            INSERT INTO media_files (message_id, user_id, inbound_wamid, meta_media_id, type, mime_type, expires_at, next_attempt_at)
            VALUES ($1, $2, $3, $4, 'image', 'image/jpeg', now() + interval '7 days', now() + interval '1 day')
            RETURNING id
            """,
            messageId, userId, wamid, "unfetched" + Guid.NewGuid().ToString("N"));
        if (set is not null)
        {
            await _database.ExecuteAsync($"UPDATE media_files SET {set} WHERE id = $1", mediaId);
        }

        return (messageId, mediaId);
    }

    private static async Task<string?> ConflictStatusAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        return problem.GetProperty("media_status").GetString();
    }

    private sealed record SentMedia(string Phone, Guid UserId, Guid MessageId, byte[] Bytes);
}
