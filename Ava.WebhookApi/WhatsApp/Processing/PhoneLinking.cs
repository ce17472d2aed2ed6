using System.Text.RegularExpressions;
using Ava.Data.Users;
using Ava.WebhookApi.WhatsApp.Storage;
using StackExchange.Redis;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>A <c>LINK &lt;code&gt;</c> message and the user the code was issued to (null: wrong or expired code).</summary>
internal sealed record LinkAttempt(string Phone, string Code, Guid? UserId)
{
    public bool Succeeded => UserId is not null;
}

/// <summary>
/// The webhook's half of linking a phone (see <see cref="PhoneLinkCodes"/>): recognises <c>LINK &lt;code&gt;</c>,
/// checks the code the messages API issued for the sender's phone (the phone is linked inside the processing
/// transaction, see <see cref="UserPreferencesTable.LinkAsync"/>), and afterwards consumes the code and invalidates
/// cached lookups. Wrong codes are counted per phone; too
/// many drop the phone's pending codes.
/// </summary>
internal sealed partial class PhoneLinking(IConnectionMultiplexer redis, IHostApplicationLifetime lifetime, ILogger<PhoneLinking> logger)
{
    public const string LinkedReply = "Your WhatsApp number is now linked to your Ava account.";

    public const string WrongCodeReply = "That link code is wrong or has expired. Ask the Ava app for a new one.";

    /// <returns>The code of a <c>LINK &lt;code&gt;</c> text, or null for any other message.</returns>
    public static string? CodeIn(IncomingMessage message) =>
        message is { Text: { } text, FromPhone: not null } && LinkCommand().Match(text) is { Success: true } match
            ? match.Groups[1].Value
            : null;

    /// <summary>Checks the codes of the LINK messages among these; a Redis failure throws (the delivery is retried).</summary>
    /// <returns>The attempts, by wamid.</returns>
    public async Task<IReadOnlyDictionary<string, LinkAttempt>> ResolveAsync(IEnumerable<IncomingMessage> messages)
    {
        var db = redis.GetDatabase();
        var lookups = messages
            .Select(message => (Message: message, Code: CodeIn(message)))
            .Where(m => m.Code is not null)
            .Select(m => (m.Message, m.Code, IssuedTo: db.HashGetAsync(PhoneLinkCodes.PendingKeyFor(m.Message.FromPhone!), m.Code)))
            .ToList();

        var attempts = new Dictionary<string, LinkAttempt>(StringComparer.Ordinal);
        foreach (var (message, code, issuedTo) in lookups)
        {
            var userId = Guid.TryParse((await issuedTo).ToString(), out var id) ? id : (Guid?)null;
            attempts[message.Wamid] = new LinkAttempt(message.FromPhone!, code!, userId);
        }

        return attempts;
    }

    /// <summary>
    /// After the transaction committed: invalidate the cached lookups of every phone the links changed (retried in
    /// the background if Redis fails, never failing the batch), consume used codes, count wrong codes.
    /// </summary>
    public async Task AfterCommitAsync(IReadOnlyList<(LinkAttempt Attempt, string? PreviousPhone)> applied)
    {
        var db = redis.GetDatabase();
        var changedPhones = applied
            .Where(a => a.Attempt.Succeeded)
            .SelectMany(a => a.PreviousPhone is { } previous ? [a.Attempt.Phone, previous] : new[] { a.Attempt.Phone })
            .ToList();
        if (changedPhones.Count > 0)
        {
            await LinkedUserCache.InvalidateAfterCommitAsync(
                () => db.ScriptEvaluateAsync(LinkedUserCache.InvalidateScript, [.. LinkedUserCache.InvalidationKeys(changedPhones).Select(k => (RedisKey)k)]),
                (exception, retrying) => LogInvalidationFailed(logger, retrying, exception),
                lifetime.ApplicationStopping);
        }

        foreach (var (attempt, _) in applied)
        {
            try
            {
                if (attempt.Succeeded)
                {
                    await db.KeyDeleteAsync([PhoneLinkCodes.PendingKeyFor(attempt.Phone), PhoneLinkCodes.AttemptsKeyFor(attempt.Phone)]);
                    continue;
                }

                var wrong = await db.StringIncrementAsync(PhoneLinkCodes.AttemptsKeyFor(attempt.Phone));
                await db.KeyExpireAsync(PhoneLinkCodes.AttemptsKeyFor(attempt.Phone), PhoneLinkCodes.TimeToLive);
                if (wrong >= PhoneLinkCodes.MaxAttempts)
                {
                    await db.KeyDeleteAsync(PhoneLinkCodes.PendingKeyFor(attempt.Phone));
                }
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                LogCleanupFailed(logger, exception);
            }
        }
    }

    [GeneratedRegex(@"^\s*link\s+(\d{6})\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex LinkCommand();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not invalidate the cached lookups of newly linked phones (retrying: {Retrying})")]
    private static partial void LogInvalidationFailed(ILogger logger, bool retrying, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not consume a used link code or count a wrong one in Redis")]
    private static partial void LogCleanupFailed(ILogger logger, Exception exception);
}
