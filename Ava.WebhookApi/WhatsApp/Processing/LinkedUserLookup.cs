using Ava.Data.Users;
using Ava.WebhookApi.WhatsApp.Storage;
using Npgsql;
using StackExchange.Redis;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>
/// Which Ava user each sender's phone is linked to (<c>user_preferences.whatsapp_phone</c>), with Redis in front of
/// Postgres (cache-aside, short-lived negative entries). Redis trouble costs only speed: lookups fall back to
/// Postgres. Postgres trouble is an error, never "not linked": the caller retries the delivery later.
/// </summary>
internal sealed partial class LinkedUserLookup(
    NpgsqlDataSource dataSource,
    IConnectionMultiplexer redis,
    WhatsAppTelemetry telemetry,
    ILogger<LinkedUserLookup> logger)
{
    private static readonly TimeSpan s_redisTimeout = TimeSpan.FromMilliseconds(500);

    /// <param name="phones">Normalised phones.</param>
    /// <returns>For each phone, the linked user, or null when it is linked to nobody.</returns>
    public async Task<IReadOnlyDictionary<string, Guid?>> FindAsync(IReadOnlyCollection<string> phones, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, Guid?>(phones.Count);
        if (phones.Count == 0)
        {
            return found;
        }

        using var activity = WhatsAppTelemetry.ActivitySource.StartActivity("lookup user");
        activity?.SetTag("ava.lookup.phones", phones.Count);

        var misses = await ReadCacheAsync(phones, found);
        if (misses.Count > 0)
        {
            var linked = await UserPreferencesTable.FindLinkedAsync(dataSource, misses, cancellationToken);
            foreach (var phone in misses)
            {
                found[phone] = linked.TryGetValue(phone, out var userId) ? userId : null;
            }

            await WriteCacheAsync(misses, found);
        }

        activity?.SetTag("ava.lookup.cache_misses", misses.Count);
        return found;
    }

    private async Task<List<string>> ReadCacheAsync(IReadOnlyCollection<string> phones, Dictionary<string, Guid?> found)
    {
        var ordered = phones.ToArray();
        RedisValue[] cached;
        try
        {
            cached = await redis.GetDatabase()
                .StringGetAsync([.. ordered.Select(p => (RedisKey)LinkedUserCache.KeyFor(p))])
                .WaitAsync(s_redisTimeout);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogCacheUnavailable(logger, exception);
            telemetry.CacheLookups.Add(ordered.Length, new KeyValuePair<string, object?>("result", "unavailable"));
            return [.. ordered];
        }

        var misses = new List<string>();
        for (var i = 0; i < ordered.Length; i++)
        {
            if (cached[i] == LinkedUserCache.NotLinked)
            {
                found[ordered[i]] = null;
            }
            else if (Guid.TryParse(cached[i].ToString(), out var userId))
            {
                found[ordered[i]] = userId;
            }
            else
            {
                // Absent (or unreadable): ask Postgres, which rewrites the entry.
                misses.Add(ordered[i]);
            }
        }

        telemetry.CacheLookups.Add(ordered.Length - misses.Count, new KeyValuePair<string, object?>("result", "hit"));
        telemetry.CacheLookups.Add(misses.Count, new KeyValuePair<string, object?>("result", "miss"));
        return misses;
    }

    private async Task WriteCacheAsync(List<string> phones, Dictionary<string, Guid?> found)
    {
        try
        {
            var batch = redis.GetDatabase().CreateBatch();
            var writes = phones.Select(phone => found[phone] is { } userId
                    ? batch.StringSetAsync(LinkedUserCache.KeyFor(phone), userId.ToString(), LinkedUserCache.LinkedTimeToLive)
                    : batch.StringSetAsync(LinkedUserCache.KeyFor(phone), LinkedUserCache.NotLinked, LinkedUserCache.NotLinkedTimeToLive))
                .ToArray();
            batch.Execute();
            await Task.WhenAll(writes).WaitAsync(s_redisTimeout);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogCacheUnavailable(logger, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unavailable; looking up linked users in Postgres")]
    private static partial void LogCacheUnavailable(ILogger logger, Exception exception);
}
