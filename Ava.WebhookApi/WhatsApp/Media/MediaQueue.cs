using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Media;

/// <summary>Media to download: swept from <c>media_files</c>.</summary>
internal sealed class MediaQueue(
    NpgsqlDataSource dataSource,
    DatabaseOutage outage,
    TimeProvider clock,
    IOptions<WhatsAppProcessingOptions> options,
    IOptions<MediaOptions> media)
    : LeasedQueue<ClaimedMedia>(
        MediaTable.Name,
        (ids, tokens, lease, cancellationToken) => LeasedTable.RenewAsync(dataSource, MediaTable.Name, ids, tokens, lease, cancellationToken),
        () => media.Value.MaxConcurrentDownloads,
        outage,
        clock,
        options);
