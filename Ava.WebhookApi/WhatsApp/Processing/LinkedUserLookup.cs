using Ava.Linking;
using Ava.WebhookApi.WhatsApp.Model;
using Ava.WebhookApi.WhatsApp.Storage;
using Npgsql;
using StackExchange.Redis;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>
/// Which Ava user each sender's phone and business-scoped user id is linked to (<c>user_preferences.whatsapp_phone</c>,
/// <c>whatsapp_user_id</c>), with Redis in front of Postgres (cache-aside, short-lived negative entries, versioned per
/// phone and per user id: see <see cref="LinkedUserCache"/>). Redis trouble costs only speed: lookups fall back to
/// Postgres. Postgres trouble is an error, never "not linked": the caller retries the delivery later.
/// </summary>
internal sealed partial class LinkedUserLookup(
    NpgsqlDataSource dataSource,
    IConnectionMultiplexer redis,
    WhatsAppTelemetry telemetry,
    IHostApplicationLifetime lifetime,
    ILogger<LinkedUserLookup> logger)
{
    private static readonly TimeSpan s_redisTimeout = TimeSpan.FromMilliseconds(500);

    /// <param name="senders">Normalised phones and business-scoped user ids.</param>
    /// <returns>For each sender, the linked account, or null when it is linked to nobody.</returns>
    public async Task<IReadOnlyDictionary<string, LinkedAccount?>> FindAsync(IReadOnlyCollection<string> senders, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, LinkedAccount?>(senders.Count);
        if (senders.Count == 0)
        {
            return found;
        }

        using var activity = WhatsAppTelemetry.ActivitySource.StartActivity("lookup user");
        activity?.SetTag("ava.lookup.senders", senders.Count);

        // The versions are read before Postgres is: an entry written with them goes stale the moment a link changes.
        var misses = await ReadCacheAsync(senders, found);
        if (misses.Count > 0)
        {
            var linked = await UserPreferencesTable.FindLinkedAsync(dataSource, misses.Keys, cancellationToken);
            foreach (var sender in misses.Keys)
            {
                found[sender] = linked.GetValueOrDefault(sender);
            }

            await WriteCacheAsync(misses, found);
        }

        activity?.SetTag("ava.lookup.cache_misses", misses.Count);
        return found;
    }

    /// <returns>The senders to ask Postgres about, each with its version as read (null when Redis did not answer).</returns>
    private async Task<Dictionary<string, long?>> ReadCacheAsync(IReadOnlyCollection<string> senders, Dictionary<string, LinkedAccount?> found)
    {
        var ordered = senders.ToArray();
        RedisValue[] cached;
        try
        {
            // One MGET: every sender's entry, then every sender's version.
            cached = await redis.GetDatabase()
                .StringGetAsync(
                [
                    .. ordered.Select(p => (RedisKey)LinkedUserCache.KeyFor(p)),
                    .. ordered.Select(p => (RedisKey)LinkedUserCache.VersionKeyFor(p)),
                ])
                .WaitAsync(s_redisTimeout);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogCacheUnavailable(logger, exception);
            telemetry.CacheLookups.Add(ordered.Length, new KeyValuePair<string, object?>("result", "unavailable"));
            return ordered.ToDictionary(p => p, _ => (long?)null);
        }

        var misses = new Dictionary<string, long?>(StringComparer.Ordinal);
        for (var i = 0; i < ordered.Length; i++)
        {
            var version = LinkedUserCache.VersionOf(cached[ordered.Length + i]);
            if (LinkedUserCache.TryRead(cached[i], version, out var userId, out var whatsAppUserId))
            {
                found[ordered[i]] = userId is { } user ? new LinkedAccount(user, whatsAppUserId) : null;
            }
            else
            {
                // Absent, unreadable or of another version: ask Postgres, and cache its answer under this version.
                misses[ordered[i]] = version;
            }
        }

        telemetry.CacheLookups.Add(ordered.Length - misses.Count, new KeyValuePair<string, object?>("result", "hit"));
        telemetry.CacheLookups.Add(misses.Count, new KeyValuePair<string, object?>("result", "miss"));
        return misses;
    }

    private async Task WriteCacheAsync(Dictionary<string, long?> misses, Dictionary<string, LinkedAccount?> found)
    {
        // Without the version read before Postgres an entry cannot be told from a stale one: nothing is cached.
        var writable = misses.Where(m => m.Value is not null).ToList();
        if (writable.Count == 0)
        {
            return;
        }

        try
        {
            var batch = redis.GetDatabase().CreateBatch();
            var writes = writable.Select(miss => batch.StringSetAsync(
                    LinkedUserCache.KeyFor(miss.Key),
                    LinkedUserCache.Entry(miss.Value!.Value, found[miss.Key]?.UserId, found[miss.Key]?.WhatsAppUserId),
                    found[miss.Key] is null ? LinkedUserCache.NotLinkedTimeToLive : LinkedUserCache.LinkedTimeToLive))
                .ToArray();
            batch.Execute();
            await Task.WhenAll(writes).WaitAsync(s_redisTimeout);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogCacheUnavailable(logger, exception);
        }
    }

    /// <summary>
    /// After a commit that changed whom these senders and user ids are linked to: invalidates their cached lookups,
    /// without ever failing the caller for it (retried in the background while Redis is away).
    /// </summary>
    public async Task ForgetAfterCommitAsync(IReadOnlyCollection<string> senders)
    {
        if (senders.Count == 0)
        {
            return;
        }

        await LinkedUserCache.InvalidateAfterCommitAsync(
            () => redis.GetDatabase().ScriptEvaluateAsync(
                LinkedUserCache.InvalidateScript, [.. LinkedUserCache.InvalidationKeys(senders).Select(k => (RedisKey)k)]),
            (exception, retrying) => LogInvalidationFailed(logger, retrying, exception),
            lifetime.ApplicationStopping);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not invalidate the cached lookups of senders whose link changed (retrying: {Retrying})")]
    private static partial void LogInvalidationFailed(ILogger logger, bool retrying, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unavailable; looking up linked users in Postgres")]
    private static partial void LogCacheUnavailable(ILogger logger, Exception exception);
}
