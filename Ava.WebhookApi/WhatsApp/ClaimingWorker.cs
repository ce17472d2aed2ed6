using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp;

/// <summary>
/// A background worker that claims rows (FOR UPDATE SKIP LOCKED, with a lease) and works through them in
/// parallel; when there is nothing to claim it sleeps until its signal or the next poll. Postgres being away only
/// pauses it.
/// </summary>
internal abstract class ClaimingWorker<TClaim>(WorkSignal signal, IOptions<WhatsAppProcessingOptions> options, ILogger logger)
    : BackgroundService
{
    protected abstract int MaxParallelism { get; }

    protected WhatsAppProcessingOptions Settings => options.Value;

    protected abstract Task<IReadOnlyList<TClaim>> ClaimAsync(CancellationToken cancellationToken);

    protected abstract Task ProcessAsync(TClaim claim, CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            IReadOnlyList<TClaim> claimed;
            try
            {
                claimed = await ClaimAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
            {
                WorkerLog.DatabaseUnavailable(logger, exception);
                claimed = [];
            }

            if (claimed.Count == 0)
            {
                await signal.WaitAsync(options.Value.PollInterval, stoppingToken);
                continue;
            }

            await Parallel.ForEachAsync(
                claimed,
                new ParallelOptions { MaxDegreeOfParallelism = MaxParallelism, CancellationToken = stoppingToken },
                async (claim, cancellationToken) => await ProcessAsync(claim, cancellationToken));
        }
    }
}

internal static partial class WorkerLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "Could not reach Postgres; the work waits and is retried")]
    public static partial void DatabaseUnavailable(ILogger logger, Exception exception);
}
