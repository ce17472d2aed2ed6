using StackExchange.Redis;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>
/// How many instances are sending right now, so that each takes its share of a number's throughput: every
/// instance keeps a heartbeat in a Redis sorted set and counts the live ones. Without Redis the last count stands
/// (one at first): pacing is then approximate, and Meta's rate-limit answers slow a number down the rest of the way.
/// </summary>
internal sealed partial class SenderPresence(IConnectionMultiplexer redis, TimeProvider clock, ILogger<SenderPresence> logger) : BackgroundService
{
    private const string Key = "ava:whatsapp-senders";

    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(5);

    private readonly string _instance = Guid.NewGuid().ToString("N");
    private int _activeSenders = 1;

    public int ActiveSenders => Volatile.Read(ref _activeSenders);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
                var db = redis.GetDatabase();
                var transaction = db.CreateTransaction();
                _ = transaction.SortedSetAddAsync(Key, _instance, now);
                _ = transaction.SortedSetRemoveRangeByScoreAsync(Key, double.NegativeInfinity, now - (3 * s_interval.TotalMilliseconds));
                _ = transaction.KeyExpireAsync(Key, s_interval * 6);
                var count = transaction.SortedSetLengthAsync(Key);
                await transaction.ExecuteAsync().WaitAsync(s_interval, stoppingToken);
                Volatile.Write(ref _activeSenders, (int)Math.Max(1, await count));
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogUnavailable(logger, exception);
            }

            await Task.Delay(s_interval, clock, stoppingToken);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await redis.GetDatabase().SortedSetRemoveAsync(Key, _instance).WaitAsync(TimeSpan.FromSeconds(1), cancellationToken);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException or OperationCanceledException)
        {
            // The entry ages out on its own.
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Redis is unavailable; keeping the last count of sending instances")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);
}
