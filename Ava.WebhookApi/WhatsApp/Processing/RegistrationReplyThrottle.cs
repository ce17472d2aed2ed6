using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>
/// Decides, for every instance alike, which senders linked to nobody are sent the registration instructions: each at
/// most once per <see cref="WhatsAppProcessingOptions.RegistrationReplyInterval"/>, however many messages they write.
/// One Redis key per sender, set only where absent and expiring after the interval, holds the wamid of the message
/// that is answered: a batch rolled back and processed again answers that same message again, not nobody. Without
/// Redis the instructions go (one per sender per batch): a stranger answered twice beats a stranger left unanswered.
/// </summary>
internal sealed partial class RegistrationReplyThrottle(
    IConnectionMultiplexer redis, IOptions<WhatsAppProcessingOptions> options, ILogger<RegistrationReplyThrottle> logger)
{
    private static readonly TimeSpan s_redisTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// For each sender, the message answered within the interval, or — when there is none — the one given, which is
    /// recorded as answered. KEYS: the senders' keys; ARGV: their candidate wamids, then the interval in milliseconds.
    /// </summary>
    private const string AnswerScript =
        """
        local answered = {}
        for i = 1, #KEYS do
          local wamid = redis.call('GET', KEYS[i])
          if not wamid then
            redis.call('SET', KEYS[i], ARGV[i], 'PX', ARGV[#ARGV])
            wamid = ARGV[i]
          end
          answered[i] = wamid
        end
        return answered
        """;

    /// <summary>Whether the instructions are throttled at all (an interval of zero answers every message).</summary>
    public bool Enabled => options.Value.RegistrationReplyInterval > TimeSpan.Zero;

    public static string KeyFor(string sender) => $"ava:whatsapp-registration-reply:{sender}";

    /// <param name="candidates">Each sender's first message that would be answered with the instructions, by sender.</param>
    /// <returns>The messages that may be answered with them.</returns>
    public async Task<IReadOnlySet<string>> AllowedAsync(IReadOnlyDictionary<string, string> candidates)
    {
        var senders = candidates.ToArray();
        try
        {
            var answered = (RedisValue[]?)await redis.GetDatabase()
                .ScriptEvaluateAsync(
                    AnswerScript,
                    [.. senders.Select(s => (RedisKey)KeyFor(s.Key))],
                    [.. senders.Select(s => (RedisValue)s.Value), (long)options.Value.RegistrationReplyInterval.TotalMilliseconds])
                .WaitAsync(s_redisTimeout) ?? [];
            return senders
                .Where((sender, i) => i < answered.Length && answered[i] == sender.Value)
                .Select(sender => sender.Value)
                .ToHashSet(StringComparer.Ordinal);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogUnavailable(logger, exception);
            return candidates.Values.ToHashSet(StringComparer.Ordinal);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unavailable; unlinked senders are sent the registration instructions without the throttle")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);
}
