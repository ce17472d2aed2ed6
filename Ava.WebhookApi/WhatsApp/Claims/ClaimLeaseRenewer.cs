using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Claims;

/// <summary>Renews this instance's leases on every stage's queue while their work is in hand.</summary>
internal sealed partial class ClaimLeaseRenewer(
    IEnumerable<ILeasedQueue> queues,
    DatabaseOutage outage,
    TimeProvider clock,
    IOptions<WhatsAppProcessingOptions> options,
    ILogger<ClaimLeaseRenewer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.LeaseRenewalInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var queue in queues)
            {
                try
                {
                    await queue.RenewAsync(stoppingToken);
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    // The leases then run out on their own; holders stop starting sends well before they do.
                    outage.Observe(exception);
                    LogRenewalFailed(logger, queue.Table, exception);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not renew the claim leases on {Table}; held work may be taken over if this lasts")]
    private static partial void LogRenewalFailed(ILogger logger, string table, Exception exception);
}
