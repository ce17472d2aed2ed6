using System.Globalization;
using System.Security.Cryptography;
using Ava.Linking;
using StackExchange.Redis;

namespace Ava.MessagesApi.Me;

/// <summary>
/// Issues link codes in Redis (see <see cref="LinkCodes"/>), each step one script, so that it holds across
/// any number of messages API instances and nothing is left half-written: a code is set only where none is pending,
/// with its expiry in the same command, and the user's previous code goes in the same step.
/// </summary>
public static class LinkCodeIssuer
{
    /// <summary>Fresh codes tried when one is already pending for someone else (rare: a million codes, minutes each).</summary>
    public const int Candidates = 5;

    /// <summary>
    /// Fixed windows per user and per phone. KEYS: the user's and the phone's counters; ARGV: their limits and the
    /// window in ms. Returns 0 and counts the code, or the ms until the first exhausted window closes.
    /// </summary>
    private const string CountIssueScript =
        """
        local limits = { tonumber(ARGV[1]), tonumber(ARGV[2]) }
        local wait = 0
        for i = 1, 2 do
          if tonumber(redis.call('GET', KEYS[i]) or '0') >= limits[i] then
            local left = redis.call('PTTL', KEYS[i])
            if left < 0 then
              redis.call('PEXPIRE', KEYS[i], ARGV[3])
              left = tonumber(ARGV[3])
            end
            wait = math.max(wait, left)
          end
        end
        if wait > 0 then
          return wait
        end
        for i = 1, 2 do
          if redis.call('INCR', KEYS[i]) == 1 then
            redis.call('PEXPIRE', KEYS[i], ARGV[3])
          end
        end
        return 0
        """;

    /// <summary>
    /// KEYS: the user's two pending-code pointers (short code, code without a phone), the code without a phone, then
    /// candidate short codes; ARGV: the pending link, its lifetime in ms, and what the user's own pending links start
    /// with. Sets the code without a phone and the first free candidate (SET NX PX: never over another user's code),
    /// drops the user's previous pair where it is still theirs, and returns the candidate's position (1-based), or 0
    /// when the code without a phone or every candidate was taken (then nothing is set). The previous codes' keys are
    /// read from the pointers, so the script assumes one Redis server, as Ava runs it (a cluster would need the keys
    /// declared).
    /// </summary>
    private const string IssueScript =
        """
        if not redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then
          return 0
        end
        local previous = { redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]) }
        for i = 4, #KEYS do
          if redis.call('SET', KEYS[i], ARGV[1], 'NX', 'PX', ARGV[2]) then
            for p = 1, 2 do
              local key = previous[p]
              if key and key ~= KEYS[i] and key ~= KEYS[3] then
                local held = redis.call('GET', key)
                if held and string.sub(held, 1, string.len(ARGV[3])) == ARGV[3] then
                  redis.call('DEL', key)
                end
              end
            end
            redis.call('SET', KEYS[1], KEYS[i], 'PX', ARGV[2])
            redis.call('SET', KEYS[2], KEYS[3], 'PX', ARGV[2])
            return i - 3
          end
        end
        redis.call('DEL', KEYS[3])
        return 0
        """;

    /// <summary>Counts a code against the user's and the phone's allowance, unless one is used up.</summary>
    /// <returns>Null when the code may be issued; otherwise how long until it may.</returns>
    public static async Task<TimeSpan?> TryCountAsync(IDatabase redis, Guid userId, string phone)
    {
        var wait = (long)await redis.ScriptEvaluateAsync(
            CountIssueScript,
            [LinkCodes.IssuedToUserKeyFor(userId), LinkCodes.IssuedForPhoneKeyFor(phone)],
            [LinkCodes.CodesPerUser, LinkCodes.CodesPerPhone, (long)LinkCodes.IssuanceWindow.TotalMilliseconds]);
        return wait > 0 ? TimeSpan.FromMilliseconds(wait) : null;
    }

    /// <summary>
    /// Makes one of <paramref name="candidates"/> and <paramref name="codeWithoutPhone"/> the user's one pending pair
    /// of codes for the link.
    /// </summary>
    /// <returns>The pair, or null when the code without a phone or every candidate is pending for someone else.</returns>
    public static async Task<IssuedLinkCodes?> IssueAsync(IDatabase redis, PendingLink link, IReadOnlyList<string> candidates, string codeWithoutPhone)
    {
        var chosen = (int)await redis.ScriptEvaluateAsync(
            IssueScript,
            [
                LinkCodes.PendingCodeKeyFor(link.UserId),
                LinkCodes.PendingCodeWithoutPhoneKeyFor(link.UserId),
                LinkCodes.CodeKeyFor(codeWithoutPhone),
                .. candidates.Select(code => (RedisKey)LinkCodes.CodeKeyFor(code)),
            ],
            [link.Format(), (long)LinkCodes.TimeToLive.TotalMilliseconds, PendingLink.OwnerPrefix(link.UserId)]);
        return chosen > 0 ? new IssuedLinkCodes(candidates[chosen - 1], codeWithoutPhone) : null;
    }

    /// <summary>Random codes of <see cref="LinkCodes.CodeLength"/> digits, from a cryptographic source.</summary>
    public static string[] NewCandidates() =>
    [
        .. Enumerable.Range(0, Candidates).Select(_ => RandomNumberGenerator
            .GetInt32(0, (int)Math.Pow(10, LinkCodes.CodeLength))
            .ToString(new string('0', LinkCodes.CodeLength), CultureInfo.InvariantCulture)),
    ];

    /// <summary>A random code of <see cref="LinkCodes.CodeWithoutPhoneLength"/> digits, from a cryptographic source.</summary>
    public static string NewCodeWithoutPhone() => RandomNumberGenerator.GetString("0123456789", LinkCodes.CodeWithoutPhoneLength);
}

/// <summary>A user's pending pair of link codes.</summary>
/// <param name="Code">Sent from the phone the user claimed.</param>
/// <param name="CodeWithoutPhone">Sent by the user writing from a WhatsApp username, without a phone.</param>
public sealed record IssuedLinkCodes(string Code, string CodeWithoutPhone);
