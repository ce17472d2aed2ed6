using System.Globalization;
using System.Text.RegularExpressions;
using Ava.Linking;
using Ava.WebhookApi.WhatsApp.Storage;
using StackExchange.Redis;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>A <c>LINK &lt;code&gt;</c> message and what its code turned out to be.</summary>
/// <param name="UserId">The user the code was issued to; null when it does not link (wrong, expired, another phone's, or refused).</param>
/// <param name="AccountLabel">How that user's account is named in the confirmation.</param>
/// <param name="Refused">The phone sent too many wrong codes lately: no code links it until the count expires.</param>
internal sealed record LinkAttempt(string Phone, string Code, Guid? UserId, string? AccountLabel = null, bool Refused = false)
{
    public bool Succeeded => UserId is not null;
}

/// <summary>
/// The webhook's half of linking a phone (see <see cref="PhoneLinkCodes"/>): recognises <c>LINK &lt;code&gt;</c>,
/// checks that the code is pending and names the sender's phone (the phone is linked inside the processing
/// transaction, see <see cref="UserPreferencesTable.LinkAsync"/>), and after the commit consumes the code,
/// invalidates the cached lookups the link changed and counts wrong codes per phone.
/// </summary>
internal sealed partial class PhoneLinking(IConnectionMultiplexer redis, IHostApplicationLifetime lifetime, ILogger<PhoneLinking> logger)
{
    public const string WrongCodeReply = "That link code is wrong or has expired. Ask the Ava app for a new one.";

    public static readonly string RefusedReply =
        $"Too many wrong link codes came from this number. Wait {PhoneLinkCodes.TimeToLive.TotalMinutes:0} minutes, then ask the Ava app for a new code.";

    /// <summary>
    /// Drops a consumed code if it is still the user's (it may have expired and gone to someone else since), and the
    /// user's pointer to it if it still points there (the user may have asked for a newer code since), and clears
    /// the phone's wrong codes. KEYS: the code, the user's pending code, the phone's wrong-code counter; ARGV: what
    /// the user's pending links start with.
    /// </summary>
    private const string ConsumeScript =
        """
        local held = redis.call('GET', KEYS[1])
        if held and string.sub(held, 1, string.len(ARGV[1])) == ARGV[1] then
          redis.call('DEL', KEYS[1])
        end
        if redis.call('GET', KEYS[2]) == KEYS[1] then
          redis.call('DEL', KEYS[2])
        end
        redis.call('DEL', KEYS[3])
        return 0
        """;

    /// <summary>Counts a wrong code per key (a phone may appear more than once); a counter's window starts at its first count.</summary>
    private const string CountWrongCodesScript =
        """
        for i = 1, #KEYS do
          if redis.call('INCR', KEYS[i]) == 1 then
            redis.call('PEXPIRE', KEYS[i], ARGV[1])
          end
        end
        return 0
        """;

    /// <summary>The reply to a LINK message.</summary>
    public static string ReplyTo(LinkAttempt link) =>
        link.Succeeded ? LinkedReply(link.AccountLabel) : link.Refused ? RefusedReply : WrongCodeReply;

    /// <summary>The confirmation names the account, so that whoever sends a code they were handed sees whose it is.</summary>
    public static string LinkedReply(string? accountLabel) => $"Your WhatsApp number is now linked to the Ava account {accountLabel}.";

    /// <summary>The line the account a phone was taken from finds in its history.</summary>
    public static string MovedAwayNotice(string phone) =>
        $"Your WhatsApp number {PhoneNumbers.ToE164(phone)} was linked to another Ava account. Its messages no longer appear here.";

    /// <returns>The code of a <c>LINK &lt;code&gt;</c> text, or null for any other message.</returns>
    /// <remarks>
    /// Only senders with a phone can link: a code names a phone. A username-only sender (business-scoped user id,
    /// no phone) would be matched on the code alone and bind that id instead; that is not built yet.
    /// </remarks>
    public static string? CodeIn(IncomingMessage message) =>
        message is { Text: { } text, FromPhone: not null } && LinkCommand().Match(text) is { Success: true } match
            ? match.Groups[1].Value
            : null;

    /// <summary>What a LINK message comes to, given what Redis holds for its code and its phone.</summary>
    /// <param name="pending">The code's <see cref="PendingPhoneLink"/> as stored, if it is pending.</param>
    /// <param name="wrongCodes">Wrong codes the phone sent in the current window, as stored.</param>
    public static LinkAttempt Check(string phone, string code, string? pending, string? wrongCodes)
    {
        if (long.TryParse(wrongCodes, NumberStyles.None, CultureInfo.InvariantCulture, out var wrong) && wrong >= PhoneLinkCodes.MaxAttempts)
        {
            return new LinkAttempt(phone, code, null, Refused: true);
        }

        return PendingPhoneLink.TryParse(pending, out var link) && link.ClaimsPhone(phone)
            ? new LinkAttempt(phone, code, link.UserId, link.AccountLabel)
            : new LinkAttempt(phone, code, null);
    }

    /// <summary>Checks the codes of the LINK messages among these (one MGET); a Redis failure throws (the delivery is retried).</summary>
    /// <returns>The attempts, by wamid.</returns>
    public async Task<IReadOnlyDictionary<string, LinkAttempt>> ResolveAsync(IEnumerable<IncomingMessage> messages)
    {
        var commands = messages
            .Select(message => (message.Wamid, Phone: message.FromPhone, Code: CodeIn(message)))
            .Where(m => m.Code is not null)
            .Select(m => (m.Wamid, Phone: m.Phone!, Code: m.Code!))
            .ToList();
        var attempts = new Dictionary<string, LinkAttempt>(StringComparer.Ordinal);
        if (commands.Count == 0)
        {
            return attempts;
        }

        var stored = await redis.GetDatabase().StringGetAsync(
        [
            .. commands.SelectMany(c => new RedisKey[] { PhoneLinkCodes.CodeKeyFor(c.Code), PhoneLinkCodes.AttemptsKeyFor(c.Phone) }),
        ]);
        for (var i = 0; i < commands.Count; i++)
        {
            var (wamid, phone, code) = commands[i];
            attempts[wamid] = Check(phone, code, stored[2 * i], stored[(2 * i) + 1]);
        }

        return attempts;
    }

    /// <summary>
    /// After the transaction committed: invalidates the cached lookups of every phone the links changed, consumes
    /// used codes and counts wrong ones. Redis trouble never fails the batch: the invalidation is retried in the
    /// background, and the rest is housekeeping (a consumed code left behind can only link the same user again).
    /// </summary>
    public async Task AfterCommitAsync(IReadOnlyList<(LinkAttempt Attempt, PhoneLinkChange? Change)> applied)
    {
        var linked = applied.Where(a => a.Attempt.Succeeded).ToList();
        var changedPhones = linked
            .SelectMany(a => a.Change?.PreviousPhone is { } previous ? [a.Attempt.Phone, previous] : new[] { a.Attempt.Phone })
            .ToList();
        var db = redis.GetDatabase();
        if (changedPhones.Count > 0)
        {
            await LinkedUserCache.InvalidateAfterCommitAsync(
                () => db.ScriptEvaluateAsync(LinkedUserCache.InvalidateScript, [.. LinkedUserCache.InvalidationKeys(changedPhones).Select(k => (RedisKey)k)]),
                (exception, retrying) => LogInvalidationFailed(logger, retrying, exception),
                lifetime.ApplicationStopping);
        }

        try
        {
            var housekeeping = linked
                .Select(a => db.ScriptEvaluateAsync(
                    ConsumeScript,
                    [
                        PhoneLinkCodes.CodeKeyFor(a.Attempt.Code),
                        PhoneLinkCodes.PendingCodeKeyFor(a.Attempt.UserId!.Value),
                        PhoneLinkCodes.AttemptsKeyFor(a.Attempt.Phone),
                    ],
                    [PendingPhoneLink.OwnerPrefix(a.Attempt.UserId!.Value)]))
                .ToList();
            var wrong = applied.Where(a => !a.Attempt.Succeeded).Select(a => (RedisKey)PhoneLinkCodes.AttemptsKeyFor(a.Attempt.Phone)).ToArray();
            if (wrong.Length > 0)
            {
                housekeeping.Add(db.ScriptEvaluateAsync(CountWrongCodesScript, wrong, [(long)PhoneLinkCodes.TimeToLive.TotalMilliseconds]));
            }

            await Task.WhenAll(housekeeping).WaitAsync(LinkedUserCache.InvalidationAttemptTimeout);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogHousekeepingFailed(logger, exception);
        }
    }

    [GeneratedRegex(@"^\s*link\s+(\d{6})\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex LinkCommand();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not invalidate the cached lookups of newly linked phones (retrying: {Retrying})")]
    private static partial void LogInvalidationFailed(ILogger logger, bool retrying, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not consume used link codes or count wrong ones in Redis")]
    private static partial void LogHousekeepingFailed(ILogger logger, Exception exception);
}
