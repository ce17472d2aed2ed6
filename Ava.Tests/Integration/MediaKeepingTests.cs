using System.Security.Cryptography;
using Ava.Data;
using Ava.Data.Media;
using Ava.WebhookApi.WhatsApp.Storage;
using Ava.WhatsAppSimulator;
using Npgsql;

namespace Ava.Tests.Integration;

/// <summary>
/// The photos, voice notes and documents linked users send are downloaded from Meta after the acknowledgement and
/// kept, byte for byte and once, whatever Meta's media endpoints do meanwhile.
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class MediaKeepingTests(AvaStackFixture stack) : IAsyncLifetime
{
    private readonly AvaDatabase _database = new(stack);
    private readonly WhatsAppDriver _whatsApp = new(stack);
    private NpgsqlDataSource? _webhookLogin;

    public async ValueTask InitializeAsync()
    {
        var builder = new NpgsqlDataSourceBuilder(await stack.GetConnectionStringAsync("webhook-db"));
        AvaDbContext.MapEnums(builder);
        _webhookLogin = builder.Build();
    }

    public async ValueTask DisposeAsync()
    {
        if (_webhookLogin is not null)
        {
            await _webhookLogin.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_linked_users_photo_is_kept_byte_for_byte_and_its_caption_is_echoed_and_shown_as_its_text()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        var bytes = RandomBytes(700_000);
        var photo = await _whatsApp.UploadMediaAsync(bytes, "image/jpeg");

        await SendAsync(WhatsAppDriver.Media(phone, "image", photo, caption: "our new kitchen"));

        Assert.Equal("[Echo] our new kitchen", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        Assert.Equal("stored", await EventualStatusAsync(photo.Id, "stored"));
        Assert.Equal(bytes, await KeptBytesAsync(photo.Id));
        Assert.Equal(
            [("our new kitchen", "image", "image/jpeg", (long?)bytes.Length, "our new kitchen")],
            await _database.QueryAsync(
                """
                SELECT m.content, f.type, f.mime_type, f.size, f.caption FROM media_files f JOIN messages m ON m.id = f.message_id
                WHERE f.meta_media_id = $1 AND f.user_id = $2
                """,
                row => (row.GetString(0), row.GetString(1), row.GetString(2), row.IsDBNull(3) ? null : (long?)row.GetInt64(3), row.GetString(4)),
                photo.Id,
                userId));
        Assert.Single(await _whatsApp.MediaRequestsAsync(photo.Id), r => r is { Stage: MediaStage.Download, HttpStatus: 200 });
    }

    [Fact]
    public async Task A_voice_note_is_kept_as_a_voice_note_without_an_echo()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        var voiceNote = await _whatsApp.UploadMediaAsync(RandomBytes(40_000), "audio/ogg; codecs=opus");

        await SendAsync(WhatsAppDriver.Media(phone, "audio", voiceNote, voice: true));

        Assert.Equal("stored", await EventualStatusAsync(voiceNote.Id, "stored"));
        Assert.True(await _database.ScalarAsync<bool>("SELECT voice FROM media_files WHERE meta_media_id = $1", voiceNote.Id));
        Assert.Empty(await _whatsApp.SendsToAsync(phone));
    }

    [Fact]
    public async Task Media_bigger_than_meta_allows_for_its_type_is_recorded_too_large_without_fetching_its_bytes_and_still_answered()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        var huge = await _whatsApp.UploadMediaAsync(RandomBytes(6 * 1024 * 1024), "image/png");

        await SendAsync(WhatsAppDriver.Media(phone, "image", huge, caption: "a big one"));

        Assert.Equal("[Echo] a big one", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        Assert.Equal("too_large", await EventualStatusAsync(huge.Id, "too_large"));
        Assert.Equal(6L * 1024 * 1024, await _database.ScalarAsync<long>("SELECT size FROM media_files WHERE meta_media_id = $1", huge.Id));
        Assert.Equal(0L, await _database.ScalarAsync<long>(
            "SELECT count(*) FROM media_chunks c JOIN media_files f ON f.id = c.media_id WHERE f.meta_media_id = $1", huge.Id));
        Assert.DoesNotContain(await _whatsApp.MediaRequestsAsync(huge.Id), r => r.Stage == MediaStage.Download);
    }

    [Fact]
    public async Task Meta_failing_to_answer_for_the_media_then_recovering_ends_with_it_kept_once()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        var bytes = RandomBytes(300_000);
        var document = await _whatsApp.UploadMediaAsync(bytes, "application/pdf");
        await _whatsApp.FailNextMediaAsync(document.Id, MediaStage.Url, 2, 500, code: 1);
        await _whatsApp.FailNextMediaAsync(document.Id, MediaStage.Download, 1, 503);

        await SendAsync(WhatsAppDriver.Media(phone, "document", document, filename: "lease.pdf"));

        Assert.Equal("stored", await EventualStatusAsync(document.Id, "stored", TimeSpan.FromMinutes(1)));
        Assert.Equal(bytes, await KeptBytesAsync(document.Id));
        Assert.Equal(
            [(MediaStage.Url, 500), (MediaStage.Url, 500), (MediaStage.Url, 200), (MediaStage.Download, 503), (MediaStage.Url, 200), (MediaStage.Download, 200)],
            (await _whatsApp.MediaRequestsAsync(document.Id)).Select(r => (r.Stage, r.HttpStatus)));
        Assert.Equal(3, await _database.ScalarAsync<int>("SELECT attempts FROM media_files WHERE meta_media_id = $1", document.Id));
    }

    [Fact]
    public async Task Bytes_that_do_not_match_metas_checksum_are_not_kept_and_the_media_is_fetched_again()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        var bytes = RandomBytes(200_000);
        var photo = await _whatsApp.UploadMediaAsync(bytes, "image/jpeg");
        await _whatsApp.FailNextMediaAsync(photo.Id, MediaStage.Download, 1, 200, corrupt: true);

        await SendAsync(WhatsAppDriver.Media(phone, "image", photo));

        Assert.Equal("stored", await EventualStatusAsync(photo.Id, "stored"));
        Assert.Equal(bytes, await KeptBytesAsync(photo.Id));
        Assert.Equal(2, (await _whatsApp.MediaRequestsAsync(photo.Id)).Count(r => r is { Stage: MediaStage.Download, HttpStatus: 200 }));
    }

    [Fact]
    public async Task A_media_id_meta_no_longer_knows_fails_with_the_reason_and_is_not_asked_for_again()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        var photo = await _whatsApp.UploadMediaAsync(RandomBytes(1_000), "image/jpeg");
        await _whatsApp.ExpireMediaAsync(photo.Id);

        await SendAsync(WhatsAppDriver.Media(phone, "image", photo, caption: "too late"));

        Assert.Equal("failed", await EventualStatusAsync(photo.Id, "failed"));
        Assert.Contains("100", await _database.ScalarAsync<string>("SELECT error FROM media_files WHERE meta_media_id = $1", photo.Id), StringComparison.Ordinal);
        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        Assert.Single(await _whatsApp.MediaRequestsAsync(photo.Id));
    }

    [Fact]
    public async Task A_strangers_media_is_not_fetched()
    {
        var phone = WhatsAppDriver.NewPhone();
        var photo = await _whatsApp.UploadMediaAsync(RandomBytes(1_000), "image/jpeg");

        await SendAsync(WhatsAppDriver.Media(phone, "image", photo));

        await _whatsApp.AcceptedSendsToAsync(phone, 1);
        Assert.Equal(0L, await _database.ScalarAsync<long>("SELECT count(*) FROM media_files WHERE meta_media_id = $1", photo.Id));
        Assert.Empty(await _whatsApp.MediaRequestsAsync(photo.Id));
    }

    [Fact]
    public async Task A_download_whose_holder_died_half_way_is_taken_over_and_kept_once()
    {
        var (_, userId) = await _database.LinkedUserAsync();
        var bytes = RandomBytes(600_000);
        var photo = await _whatsApp.UploadMediaAsync(bytes, "image/jpeg");

        // A holder claimed it and died mid-download: its claim is there, its lease has run out, nothing was kept.
        var dead = Guid.CreateVersion7();
        var messageId = Guid.CreateVersion7();
        await _database.ExecuteAsync(
            "INSERT INTO messages (id, user_id, channel, role, content, created_at, external_id) VALUES ($1, $2, 'whatsapp', 'user', '[image]', now(), $3)",
            messageId, userId, "wamid.DEAD" + Guid.NewGuid().ToString("N"));
        var mediaId = await _database.ScalarAsync<long>(
            """
            INSERT INTO media_files (message_id, user_id, inbound_wamid, meta_media_id, type, mime_type, sha256, expires_at, claim_token, locked_until, next_attempt_at)
            VALUES ($1, $2, 'wamid.dead', $3, 'image', 'image/jpeg', $4, now() + interval '7 days', $5, now() - interval '1 second', now() + interval '14 seconds')
            RETURNING id
            """,
            messageId, userId, photo.Id, photo.Sha256, dead);

        Assert.Equal("stored", await EventualStatusAsync(photo.Id, "stored", TimeSpan.FromMinutes(1)));
        Assert.Equal(bytes, await KeptBytesAsync(photo.Id));

        // The dead holder's write, had it come back, would find its claim gone: the media is kept once.
        await using var connection = await _webhookLogin!.OpenConnectionAsync(TestContext.Current.CancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
        var late = new ClaimedMedia(mediaId, dead, userId, "wamid.dead", photo.Id, "image", "image/jpeg", photo.Sha256, 0, DateTimeOffset.UtcNow.AddDays(7), null);
        Assert.False(await MediaTable.MarkStoredAsync(transaction, late, new StoredContent(1, PostgresMediaStore.ChunkSize), null, TestContext.Current.CancellationToken));
    }

    private async Task SendAsync(Ava.WhatsApp.Contracts.WebhookMessage message)
    {
        using var response = await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(message)));
        response.EnsureSuccessStatusCode();
    }

    private Task<string> EventualStatusAsync(string metaMediaId, string status, TimeSpan? patience = null) => WhatsAppDriver.EventuallyAsync(
        async () => (await _database.QueryAsync<string>("SELECT status::text FROM media_files WHERE meta_media_id = $1", metaMediaId)).SingleOrDefault() ?? "",
        current => current == status,
        patience);

    /// <summary>The bytes kept of the media, chunk after chunk, as its owner's reader gets them.</summary>
    private async Task<byte[]> KeptBytesAsync(string metaMediaId)
    {
        var chunks = await _database.QueryAsync(
            "SELECT c.data FROM media_chunks c JOIN media_files f ON f.id = c.media_id WHERE f.meta_media_id = $1 ORDER BY c.seq",
            row => (byte[])row.GetValue(0),
            metaMediaId);
        return [.. chunks.SelectMany(c => c)];
    }

    private static byte[] RandomBytes(int length) => RandomNumberGenerator.GetBytes(length);
}
