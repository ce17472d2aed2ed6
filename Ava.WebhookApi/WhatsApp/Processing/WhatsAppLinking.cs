using System.Text.RegularExpressions;
using Ava.Linking;
using Ava.WebhookApi.WhatsApp.Model;
using Ava.WebhookApi.WhatsApp.Storage;
using StackExchange.Redis;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>
/// The webhook's half of linking a WhatsApp account (see <see cref="LinkCodes"/>): recognises
/// <c>LINK &lt;code&gt;</c>, checks that the code is pending and may link its sender (the account is linked inside the
/// processing transaction, see <see cref="UserPreferencesTable.LinkAsync"/>), and after the commit consumes the code.
/// Every code sent is counted before it is checked — per sender, and for senders without a phone all together — so
/// that neither a batch of guesses nor a Redis failure gets a guess past the limits. A sender with a phone must send
/// from the phone the code names; a sender without one — a user who adopted a username — is known by their
/// business-scoped user id, and the long code alone proves they are the user it was issued to: the id is linked, the
/// claimed phone is not. The confirmation names no account: a guesser must learn nothing of whose it is.
/// </summary>
internal sealed partial class WhatsAppLinking(IConnectionMultiplexer redis, ILogger<WhatsAppLinking> logger)
{
    /// <summary>Why a delivery with a LINK was handed back unfinished.</summary>
    public const string DeferredReason = "Redis is unavailable: the LINK message waits to be checked";

    public const string WrongCodeReply = "That link code is wrong or has expired. Ask the Ava app for a new one.";

    /// <summary>Names no account: the person who asked for the code knows which, and a guesser must not learn it.</summary>
    public const string LinkedReply = "Your WhatsApp account is now linked to the Ava account that asked for this code.";

    public static readonly string RefusedReply =
        $"Too many link codes came in lately. Wait {LinkCodes.TimeToLive.TotalMinutes:0} minutes, then ask the Ava app for a new code.";

    private static readonly TimeSpan s_redisTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Counts a code before it is checked, then reads it: so that each code sent is counted, however many a batch
    /// holds, and none is checked uncounted. Each message counts once: one checked again — its batch retried, or a
    /// check that waited in the client's queue through a Redis outage and ran after it, beside the retry's own —
    /// reads the counters without counting. A counter's window starts at its first count. KEYS: the code, the
    /// message's counted mark, the sender's counter, and for a sender without a phone the counter of all of them;
    /// ARGV: the window in ms. Returns the pending link as stored (empty when none), then each counter.
    /// </summary>
    private const string CountAndReadScript =
        """
        local result = { redis.call('GET', KEYS[1]) or '' }
        local first = redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1])
        for i = 3, #KEYS do
          local count
          if first then
            count = redis.call('INCR', KEYS[i])
            if count == 1 then
              redis.call('PEXPIRE', KEYS[i], ARGV[1])
            end
          else
            count = tonumber(redis.call('GET', KEYS[i]) or '0')
          end
          result[i - 1] = count
        end
        return result
        """;

    /// <summary>
    /// Drops a consumed code if it is still the user's (it may have expired and gone to someone else since) and, if
    /// it is the user's current pair (the user may have asked for a newer one since), the other code of the pair and
    /// the pointers to both; clears the sender's count, and takes the link off the count of senders without a phone.
    /// KEYS: the code, the user's two pending-code pointers, the sender's counter, and for a sender without a phone
    /// the counter of all of them; ARGV: what the user's pending links start with.
    /// </summary>
    private const string ConsumeScript =
        """
        local function drop_if_theirs(key)
          local held = redis.call('GET', key)
          if held and string.sub(held, 1, string.len(ARGV[1])) == ARGV[1] then
            redis.call('DEL', key)
          end
        end
        drop_if_theirs(KEYS[1])
        if redis.call('GET', KEYS[2]) == KEYS[1] or redis.call('GET', KEYS[3]) == KEYS[1] then
          for i = 2, 3 do
            local other = redis.call('GET', KEYS[i])
            if other then
              drop_if_theirs(other)
            end
            redis.call('DEL', KEYS[i])
          end
        end
        redis.call('DEL', KEYS[4])
        if KEYS[5] and tonumber(redis.call('GET', KEYS[5]) or '0') > 0 then
          redis.call('DECR', KEYS[5])
        end
        return 0
        """;

    /// <summary>The reply to a LINK message.</summary>
    public static string ReplyTo(LinkAttempt link) =>
        link.Succeeded ? LinkedReply : link.Refused ? RefusedReply : WrongCodeReply;

    /// <summary>The line the account a WhatsApp number (or account) was taken from finds in its history.</summary>
    public static string MovedAwayNotice(LinkAttempt link) => link switch
    {
        { Phone: { } phone } => $"Your WhatsApp number {PhoneNumbers.ToE164(phone)} was linked to another Ava account. Its messages no longer appear here.",
        _ => $"Your WhatsApp account {link.Username ?? link.WhatsAppUserId} was linked to another Ava account. Its messages no longer appear here.",
    };

    /// <returns>The code of a <c>LINK &lt;code&gt;</c> text from a sender Ava can tell apart, or null for any other message.</returns>
    public static string? CodeIn(IncomingMessage message) =>
        message is { Type: "text", Text: { } text, Sender: not null } && LinkCommand().Match(text) is { Success: true } match
            && match.Groups[1].Length is LinkCodes.CodeLength or LinkCodes.CodeWithoutPhoneLength
            ? match.Groups[1].Value
            : null;

    /// <summary>What a LINK message comes to, given what Redis holds for its code and whether its sender is over a limit.</summary>
    /// <param name="phone">The sender's phone; null for a sender known only by <paramref name="whatsAppUserId"/>.</param>
    /// <param name="pending">The code's <see cref="PendingLink"/> as stored, if it is pending.</param>
    /// <param name="refused">This code, counted, took its sender (or the senders without a phone) past their limit.</param>
    public static LinkAttempt Check(
        string? phone, string code, string? pending, bool refused, string? whatsAppUserId = null, string? username = null)
    {
        var attempt = new LinkAttempt(phone, code, null, WhatsAppUserId: whatsAppUserId, Username: username);
        if (refused)
        {
            return attempt with { Refused = true };
        }

        if (!PendingLink.TryParse(pending, out var link) || !link.Admits(phone, code))
        {
            return attempt;
        }

        return attempt with { UserId = link.UserId, ClaimedPhone = phone is null ? link.Phone : null };
    }

    /// <summary>
    /// Checks the codes of the LINK messages among these, each counted before it is checked (one script each, in
    /// order, so that guesses in one batch are counted one by one). When Redis does not answer, each is
    /// <see cref="LinkAttempt.Deferred"/>: a link cannot be decided — nor a guess counted — without it, but nothing
    /// else waits for it.
    /// </summary>
    /// <returns>The attempts, by wamid.</returns>
    public async Task<IReadOnlyDictionary<string, LinkAttempt>> ResolveAsync(IEnumerable<IncomingMessage> messages)
    {
        var commands = messages
            .Select(message => (Message: message, Code: CodeIn(message)))
            .Where(m => m.Code is not null)
            .Select(m => (m.Message, Code: m.Code!))
            .ToList();
        var attempts = new Dictionary<string, LinkAttempt>(StringComparer.Ordinal);
        if (commands.Count == 0)
        {
            return attempts;
        }

        RedisResult[] counted;
        try
        {
            var db = redis.GetDatabase();
            var window = (long)LinkCodes.TimeToLive.TotalMilliseconds;
            counted = await Task.WhenAll(commands.Select(c => db.ScriptEvaluateAsync(
                    CountAndReadScript,
                    [
                        LinkCodes.CodeKeyFor(c.Code),
                        LinkCodes.CountedKeyFor(c.Message.Wamid),
                        LinkCodes.AttemptsKeyFor(c.Message.Sender!),
                        .. c.Message.FromPhone is null ? new RedisKey[] { LinkCodes.GuessesWithoutPhoneKey } : [],
                    ],
                    [window])))
                .WaitAsync(s_redisTimeout);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogLinksDeferred(logger, commands.Count, exception);
            foreach (var (message, code) in commands)
            {
                attempts[message.Wamid] = new LinkAttempt(
                    message.FromPhone, code, null, WhatsAppUserId: message.FromUserId, Username: message.FromUsername, Deferred: true);
            }

            return attempts;
        }

        for (var i = 0; i < commands.Count; i++)
        {
            var (message, code) = commands[i];
            var result = (RedisResult[])counted[i]!;
            var pending = (string?)result[0];
            var refused = (long)result[1] > LinkCodes.MaxAttempts
                || (result.Length > 2 && (long)result[2] > LinkCodes.GuessesWithoutPhonePerWindow);
            attempts[message.Wamid] = Check(
                message.FromPhone, code, pending is { Length: > 0 } ? pending : null, refused, message.FromUserId, message.FromUsername);
        }

        return attempts;
    }

    /// <summary>
    /// After the transaction committed (and the cached lookups it changed were invalidated, see
    /// <see cref="LinkedUserLookup.ForgetAfterCommitAsync"/>): consumes used codes, and takes their senders off the
    /// counts. Redis trouble never fails the batch: this is housekeeping (a consumed code left behind can only link
    /// the same user again; a count left behind only expires later).
    /// </summary>
    public async Task AfterCommitAsync(IReadOnlyList<(LinkAttempt Attempt, WhatsAppLinkChange? Change)> applied)
    {
        var linked = applied.Where(a => a.Attempt.Succeeded).ToList();
        if (linked.Count == 0)
        {
            return;
        }

        var db = redis.GetDatabase();
        try
        {
            await Task.WhenAll(linked.Select(a => db.ScriptEvaluateAsync(
                    ConsumeScript,
                    [
                        LinkCodes.CodeKeyFor(a.Attempt.Code),
                        LinkCodes.PendingCodeKeyFor(a.Attempt.UserId!.Value),
                        LinkCodes.PendingCodeWithoutPhoneKeyFor(a.Attempt.UserId!.Value),
                        LinkCodes.AttemptsKeyFor(a.Attempt.Sender),
                        .. a.Attempt.Phone is null ? new RedisKey[] { LinkCodes.GuessesWithoutPhoneKey } : [],
                    ],
                    [PendingLink.OwnerPrefix(a.Attempt.UserId!.Value)])))
                .WaitAsync(LinkedUserCache.InvalidationAttemptTimeout);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogHousekeepingFailed(logger, exception);
        }
    }

    // Any run of digits, its length checked against LinkCodes' lengths: a generated pattern cannot take them.
    [GeneratedRegex(@"^\s*link\s+(\d+)\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex LinkCommand();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unavailable; {Count} LINK message(s) wait to be checked, the rest of their batch goes on")]
    private static partial void LogLinksDeferred(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not consume used link codes in Redis")]
    private static partial void LogHousekeepingFailed(ILogger logger, Exception exception);
}
