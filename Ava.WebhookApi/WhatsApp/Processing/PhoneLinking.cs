using System.Text.RegularExpressions;
using Ava.Data.Users;
using Npgsql;
using StackExchange.Redis;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>A <c>LINK &lt;code&gt;</c> message and the user the code was issued to (null: wrong or expired code).</summary>
internal sealed record LinkAttempt(string Phone, string Code, Guid? UserId)
{
    public bool Succeeded => UserId is not null;
}

/// <summary>
/// The webhook's half of linking a phone (see <see cref="PhoneLinkCodes"/>): recognises <c>LINK &lt;code&gt;</c>,
/// checks the code the messages API issued for the sender's phone, links the phone inside the processing
/// transaction, and afterwards consumes the code and evicts cached lookups. Wrong codes are counted per phone; too
/// many drop the phone's pending codes.
/// </summary>
internal sealed partial class PhoneLinking(IConnectionMultiplexer redis, ILogger<PhoneLinking> logger)
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
        var attempts = new Dictionary<string, LinkAttempt>();
        foreach (var message in messages)
        {
            if (CodeIn(message) is not { } code)
            {
                continue;
            }

            var issuedTo = await redis.GetDatabase().HashGetAsync(PhoneLinkCodes.PendingKeyFor(message.FromPhone!), code);
            attempts[message.Wamid] = new LinkAttempt(
                message.FromPhone!, code, Guid.TryParse(issuedTo.ToString(), out var userId) ? userId : null);
        }

        return attempts;
    }

    /// <summary>Links the phone to the user, taking it from whoever had it (the code proves the sender holds it).</summary>
    /// <returns>The phone the user had linked before, if another.</returns>
    public static async Task<string?> LinkAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, string phone, CancellationToken cancellationToken)
    {
        await using (var release = new NpgsqlCommand(
            "UPDATE user_preferences SET whatsapp_phone = NULL, updated_at = now() WHERE whatsapp_phone = $2 AND user_id <> $1",
            connection,
            transaction))
        {
            release.Parameters.Add(new() { Value = userId });
            release.Parameters.Add(new() { Value = phone });
            await release.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var link = new NpgsqlCommand(
            """
            WITH previous AS (SELECT whatsapp_phone FROM user_preferences WHERE user_id = $1)
            INSERT INTO user_preferences (user_id, whatsapp_phone) VALUES ($1, $2)
            ON CONFLICT (user_id) DO UPDATE SET whatsapp_phone = excluded.whatsapp_phone, updated_at = now()
            RETURNING (SELECT whatsapp_phone FROM previous)
            """,
            connection,
            transaction);
        link.Parameters.Add(new() { Value = userId });
        link.Parameters.Add(new() { Value = phone });
        var previous = await link.ExecuteScalarAsync(cancellationToken) as string;
        return previous == phone ? null : previous;
    }

    /// <summary>After the transaction committed: consume used codes, evict stale lookups, count wrong codes.</summary>
    public async Task AfterCommitAsync(IReadOnlyList<(LinkAttempt Attempt, string? PreviousPhone)> applied)
    {
        var db = redis.GetDatabase();
        foreach (var (attempt, previousPhone) in applied)
        {
            try
            {
                if (attempt.Succeeded)
                {
                    await db.KeyDeleteAsync(
                    [
                        PhoneLinkCodes.PendingKeyFor(attempt.Phone),
                        PhoneLinkCodes.AttemptsKeyFor(attempt.Phone),
                        LinkedUserCache.KeyFor(attempt.Phone),
                        .. previousPhone is null ? Array.Empty<RedisKey>() : [LinkedUserCache.KeyFor(previousPhone)],
                    ]);
                    continue;
                }

                var wrong = await db.StringIncrementAsync(PhoneLinkCodes.AttemptsKeyFor(attempt.Phone));
                await db.KeyExpireAsync(PhoneLinkCodes.AttemptsKeyFor(attempt.Phone), PhoneLinkCodes.TimeToLive);
                if (wrong >= PhoneLinkCodes.MaxAttempts)
                {
                    await db.KeyDeleteAsync(PhoneLinkCodes.PendingKeyFor(attempt.Phone));
                }
            }
            catch (RedisException exception)
            {
                // The link itself is committed; stale cache entries expire on their own.
                LogCleanupFailed(logger, exception);
            }
        }
    }

    [GeneratedRegex(@"^\s*link\s+(\d{6})\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex LinkCommand();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not clean up after a phone link in Redis; cached lookups expire on their own")]
    private static partial void LogCleanupFailed(ILogger logger, Exception exception);
}
