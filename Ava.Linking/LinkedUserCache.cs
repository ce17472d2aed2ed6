using System.Globalization;
using Polly;
using Polly.Retry;

namespace Ava.Linking;

/// <summary>
/// The Redis cache of "which Ava user is this WhatsApp sender linked to", one entry per phone and one per
/// business-scoped user id (never all digits, so the two cannot collide): written by the webhook's lookups,
/// invalidated — both of a link — by whoever changes it (the webhook on <c>LINK</c> and on a user id's replacement,
/// the messages API on unlink).
/// </summary>
/// <remarks>
/// Deleting the entry is not enough: a lookup that read Postgres just before a change committed can write its
/// stale answer just after the delete. So each sender has a version (<see cref="VersionKeyFor"/>), bumped after every
/// change commits; a lookup reads the version before it asks Postgres and writes its entry with that version
/// (<see cref="Entry"/>), and an entry of any other version than the current one is a miss (<see cref="TryRead"/>).
/// Version keys never expire: one that did could start again at a number an old entry still carries.
/// </remarks>
public static class LinkedUserCache
{
    /// <summary>Stored for a sender that is linked to nobody (a short-lived negative entry).</summary>
    public const string NotLinked = "-";

    /// <summary>
    /// The script that invalidates senders after a link change committed. KEYS: each sender's version key and entry
    /// key in turn (<see cref="InvalidationKeys"/>); it bumps the one and deletes the other.
    /// </summary>
    public const string InvalidateScript =
        """
        for i = 1, #KEYS, 2 do
          redis.call('INCR', KEYS[i])
          redis.call('DEL', KEYS[i + 1])
        end
        return #KEYS / 2
        """;

    public static readonly TimeSpan LinkedTimeToLive = TimeSpan.FromMinutes(10);

    public static readonly TimeSpan NotLinkedTimeToLive = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a failed invalidation is retried. A stale entry is written at the latest just after the change
    /// commits and lives <see cref="LinkedTimeToLive"/>; once that has passed there is nothing left to invalidate.
    /// </summary>
    public static readonly TimeSpan InvalidationDeadline = LinkedTimeToLive + TimeSpan.FromMinutes(1);

    /// <summary>How long the first invalidation may take before the change's request or batch moves on without it.</summary>
    public static readonly TimeSpan InvalidationAttemptTimeout = TimeSpan.FromMilliseconds(500);

    private static readonly ResiliencePipeline s_retries = Retries(TimeProvider.System);

    /// <param name="sender">A phone normalised by <see cref="PhoneNumbers.Normalize"/>, or a business-scoped user id.</param>
    public static string KeyFor(string sender) => $"ava:whatsapp-user:{sender}";

    /// <param name="sender">A phone normalised by <see cref="PhoneNumbers.Normalize"/>, or a business-scoped user id.</param>
    public static string VersionKeyFor(string sender) => $"ava:whatsapp-user-version:{sender}";

    /// <summary>A sender's version as stored; absent (never changed since the cache began) is 0.</summary>
    public static long VersionOf(string? stored) =>
        long.TryParse(stored, NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version : 0;

    /// <summary>
    /// The entry a lookup writes: the version it read before asking Postgres, and Postgres' answer — the linked user
    /// and the business-scoped user id that user's link records (empty when it records none), which tells a phone's
    /// next holder from its linked user.
    /// </summary>
    public static string Entry(long version, Guid? userId, string? whatsAppUserId = null) =>
        string.Create(CultureInfo.InvariantCulture, $"{version}:{(userId is { } id ? $"{id:D}:{whatsAppUserId}" : NotLinked)}");

    /// <param name="currentVersion">The sender's version, read together with the entry.</param>
    /// <param name="userId">The cached user; null when the sender is cached as linked to nobody.</param>
    /// <param name="whatsAppUserId">The user id the cached user's link records; null when it records none.</param>
    /// <returns>False for a miss: no entry, an unreadable one, or one of another version than the current one.</returns>
    public static bool TryRead(string? entry, long currentVersion, out Guid? userId, out string? whatsAppUserId)
    {
        userId = null;
        whatsAppUserId = null;
        var parts = entry?.Split(':', 3);
        if (parts is not [var version, ..]
            || !long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var entryVersion)
            || entryVersion != currentVersion)
        {
            return false;
        }

        if (parts is [_, NotLinked])
        {
            return true;
        }

        // An entry without the recorded user id was written before entries carried it: it cannot tell a phone's next holder.
        if (parts is not [_, var user, var recorded] || !Guid.TryParseExact(user, "D", out var id))
        {
            return false;
        }

        userId = id;
        whatsAppUserId = recorded.Length > 0 ? recorded : null;
        return true;
    }

    /// <summary>The keys of <see cref="InvalidateScript"/> for these senders (phones and user ids).</summary>
    public static string[] InvalidationKeys(IEnumerable<string> senders) =>
        [.. senders.Distinct(StringComparer.Ordinal).SelectMany(sender => new[] { VersionKeyFor(sender), KeyFor(sender) })];

    /// <summary>
    /// Invalidates after a link change committed, without ever failing the caller for it: one attempt of at most
    /// <see cref="InvalidationAttemptTimeout"/>, then, if Redis failed, retries in the background with backoff until
    /// <see cref="InvalidationDeadline"/> or <paramref name="stopping"/>.
    /// </summary>
    /// <param name="invalidate">Runs <see cref="InvalidateScript"/>.</param>
    /// <param name="failed">Told of each failed attempt, and whether it will be tried again.</param>
    public static Task InvalidateAfterCommitAsync(
        Func<Task> invalidate, Action<Exception, bool> failed, CancellationToken stopping) =>
        InvalidateAfterCommitAsync(invalidate, failed, TimeProvider.System, s_retries, stopping);

    /// <summary><see cref="InvalidateAfterCommitAsync(Func{Task}, Action{Exception, bool}, CancellationToken)"/> on a given clock.</summary>
    public static async Task InvalidateAfterCommitAsync(
        Func<Task> invalidate, Action<Exception, bool> failed, TimeProvider clock, ResiliencePipeline retries, CancellationToken stopping)
    {
        try
        {
            await invalidate().WaitAsync(InvalidationAttemptTimeout, clock, stopping);
            return;
        }
        catch (Exception exception)
        {
            failed(exception, !stopping.IsCancellationRequested);
        }

        if (!stopping.IsCancellationRequested)
        {
            _ = Task.Run(() => RetryAsync(invalidate, failed, clock, retries, stopping), CancellationToken.None);
        }
    }

    /// <summary>Exponential backoff with jitter, from a second up to half a minute between attempts.</summary>
    public static ResiliencePipeline Retries(TimeProvider clock) => new ResiliencePipelineBuilder { TimeProvider = clock }
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(exception => exception is not OperationCanceledException),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromSeconds(1),
            MaxDelay = TimeSpan.FromSeconds(30),
            MaxRetryAttempts = int.MaxValue,
        })
        .Build();

    private static async Task RetryAsync(
        Func<Task> invalidate, Action<Exception, bool> failed, TimeProvider clock, ResiliencePipeline retries, CancellationToken stopping)
    {
        using var deadline = new CancellationTokenSource(InvalidationDeadline, clock);
        using var until = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, stopping);
        Exception? last = null;
        try
        {
            // The attempt that just failed counts as the first: wait before the next.
            await Task.Delay(TimeSpan.FromSeconds(1), clock, until.Token);
            await retries.ExecuteAsync(
                async token =>
                {
                    try
                    {
                        await invalidate().WaitAsync(InvalidationAttemptTimeout, clock, token);
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException)
                    {
                        last = exception;
                        failed(exception, true);
                        throw;
                    }
                },
                until.Token);
        }
        catch (OperationCanceledException) when (until.IsCancellationRequested)
        {
            failed(last ?? new TimeoutException("Invalidation was not retried before the deadline."), false);
        }
    }
}
