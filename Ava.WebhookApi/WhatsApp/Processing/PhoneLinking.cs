using System.Globalization;
using System.Text.RegularExpressions;
using Ava.Linking;
using Ava.WebhookApi.WhatsApp.Storage;
using StackExchange.Redis;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>A <c>LINK &lt;code&gt;</c> message and what its code turned out to be.</summary>
/// <param name="Phone">The sender's phone; null for a user who adopted a username and whose phone Meta withholds.</param>
/// <param name="UserId">The user the code was issued to; null when it does not link (wrong, expired, another phone's, or refused).</param>
/// <param name="AccountLabel">How that user's account is named in the confirmation.</param>
/// <param name="Refused">The sender sent too many wrong codes lately: no code links them until the count expires.</param>
/// <param name="WhatsAppUserId">The sender's business-scoped user id, linked with the phone, or instead of it.</param>
/// <param name="Username">The sender's username, kept with the link to show the account by.</param>
/// <param name="ClaimedPhone">
/// For a sender without a phone, the phone the code's user claimed: not proven by this link, it stays linked only if
/// it already was, to the same user.
/// </param>
/// <param name="Deferred">
/// Redis could not be asked about the code: the message waits to be processed again on its own, and neither its
/// batch nor its delivery's other messages wait with it.
/// </param>
internal sealed record LinkAttempt(
    string? Phone,
    string Code,
    Guid? UserId,
    string? AccountLabel = null,
    bool Refused = false,
    string? WhatsAppUserId = null,
    string? Username = null,
    string? ClaimedPhone = null,
    bool Deferred = false)
{
    public bool Succeeded => UserId is not null;

    /// <summary>Who sent it, as wrong codes are counted: the phone, else the user id.</summary>
    public string Sender => Phone ?? WhatsAppUserId ?? throw new InvalidOperationException("A LINK message has a phone or a user id.");
}

/// <summary>
/// The webhook's half of linking a WhatsApp account (see <see cref="PhoneLinkCodes"/>): recognises
/// <c>LINK &lt;code&gt;</c>, checks that the code is pending and may link its sender (the account is linked inside the
/// processing transaction, see <see cref="UserPreferencesTable.LinkAsync"/>), and after the commit consumes the code
/// and counts wrong codes per sender. A sender with a phone must send from the phone the code names; a sender
/// without one — a user who adopted a username — is known by their business-scoped user id, and the code alone
/// proves they are the user it was issued to: the id is linked, the claimed phone is not.
/// </summary>
internal sealed partial class PhoneLinking(IConnectionMultiplexer redis, ILogger<PhoneLinking> logger)
{
    /// <summary>Why a delivery with a LINK was handed back unfinished.</summary>
    public const string DeferredReason = "Redis is unavailable: the LINK message waits to be checked";

    public const string WrongCodeReply = "That link code is wrong or has expired. Ask the Ava app for a new one.";

    public static readonly string RefusedReply =
        $"Too many wrong link codes came from this number. Wait {PhoneLinkCodes.TimeToLive.TotalMinutes:0} minutes, then ask the Ava app for a new code.";

    private static readonly TimeSpan s_redisTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Drops a consumed code if it is still the user's (it may have expired and gone to someone else since), and the
    /// user's pointer to it if it still points there (the user may have asked for a newer code since), and clears
    /// the sender's wrong codes. KEYS: the code, the user's pending code, the sender's wrong-code counter; ARGV: what
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

    /// <summary>Counts a wrong code per key (a sender may appear more than once); a counter's window starts at its first count.</summary>
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

    /// <summary>The line the account a WhatsApp number (or account) was taken from finds in its history.</summary>
    public static string MovedAwayNotice(LinkAttempt link) => link switch
    {
        { Phone: { } phone } => $"Your WhatsApp number {PhoneNumbers.ToE164(phone)} was linked to another Ava account. Its messages no longer appear here.",
        _ => $"Your WhatsApp account {link.Username ?? link.WhatsAppUserId} was linked to another Ava account. Its messages no longer appear here.",
    };

    /// <returns>The code of a <c>LINK &lt;code&gt;</c> text from a sender Ava can tell apart, or null for any other message.</returns>
    public static string? CodeIn(IncomingMessage message) =>
        message is { Text: { } text, Sender: not null } && LinkCommand().Match(text) is { Success: true } match
            && match.Groups[1].Length == PhoneLinkCodes.CodeLength
            ? match.Groups[1].Value
            : null;

    /// <summary>What a LINK message comes to, given what Redis holds for its code and its sender.</summary>
    /// <param name="phone">The sender's phone; null for a sender known only by <paramref name="whatsAppUserId"/>.</param>
    /// <param name="pending">The code's <see cref="PendingPhoneLink"/> as stored, if it is pending.</param>
    /// <param name="wrongCodes">Wrong codes the sender sent in the current window, as stored.</param>
    public static LinkAttempt Check(
        string? phone, string code, string? pending, string? wrongCodes, string? whatsAppUserId = null, string? username = null)
    {
        var attempt = new LinkAttempt(phone, code, null, WhatsAppUserId: whatsAppUserId, Username: username);
        if (long.TryParse(wrongCodes, NumberStyles.None, CultureInfo.InvariantCulture, out var wrong) && wrong >= PhoneLinkCodes.MaxAttempts)
        {
            return attempt with { Refused = true };
        }

        if (!PendingPhoneLink.TryParse(pending, out var link) || !link.Admits(phone))
        {
            return attempt;
        }

        return attempt with { UserId = link.UserId, AccountLabel = link.AccountLabel, ClaimedPhone = phone is null ? link.Phone : null };
    }

    /// <summary>
    /// Checks the codes of the LINK messages among these (one MGET). When Redis does not answer, each is
    /// <see cref="LinkAttempt.Deferred"/>: a link cannot be decided without it, but nothing else waits for it.
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

        RedisValue[] stored;
        try
        {
            stored = await redis.GetDatabase().StringGetAsync(
            [
                .. commands.SelectMany(c => new RedisKey[] { PhoneLinkCodes.CodeKeyFor(c.Code), PhoneLinkCodes.AttemptsKeyFor(c.Message.Sender!) }),
            ]).WaitAsync(s_redisTimeout);
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
            attempts[message.Wamid] = Check(
                message.FromPhone, code, stored[2 * i], stored[(2 * i) + 1], message.FromUserId, message.FromUsername);
        }

        return attempts;
    }

    /// <summary>
    /// After the transaction committed (and the cached lookups it changed were invalidated, see
    /// <see cref="LinkedUserLookup.ForgetAfterCommitAsync"/>): consumes used codes and counts wrong ones. Redis trouble
    /// never fails the batch: this is housekeeping (a consumed code left behind can only link the same user again).
    /// </summary>
    public async Task AfterCommitAsync(IReadOnlyList<(LinkAttempt Attempt, WhatsAppLinkChange? Change)> applied)
    {
        var linked = applied.Where(a => a.Attempt.Succeeded).ToList();
        var db = redis.GetDatabase();
        try
        {
            var housekeeping = linked
                .Select(a => db.ScriptEvaluateAsync(
                    ConsumeScript,
                    [
                        PhoneLinkCodes.CodeKeyFor(a.Attempt.Code),
                        PhoneLinkCodes.PendingCodeKeyFor(a.Attempt.UserId!.Value),
                        PhoneLinkCodes.AttemptsKeyFor(a.Attempt.Sender),
                    ],
                    [PendingPhoneLink.OwnerPrefix(a.Attempt.UserId!.Value)]))
                .ToList();
            var wrong = applied.Where(a => !a.Attempt.Succeeded).Select(a => (RedisKey)PhoneLinkCodes.AttemptsKeyFor(a.Attempt.Sender)).ToArray();
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

    // Any run of digits, its length checked against PhoneLinkCodes.CodeLength: a generated pattern cannot take it.
    [GeneratedRegex(@"^\s*link\s+(\d+)\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex LinkCommand();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unavailable; {Count} LINK message(s) wait to be checked, the rest of their batch goes on")]
    private static partial void LogLinksDeferred(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not consume used link codes or count wrong ones in Redis")]
    private static partial void LogHousekeepingFailed(ILogger logger, Exception exception);
}
