using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Claims;

/// <summary>The inbox's held claims (deliveries being processed).</summary>
internal sealed class InboxClaims(NpgsqlDataSource dataSource, TimeProvider clock, IOptions<WhatsAppProcessingOptions> options)
    : ClaimLeases((ids, tokens, lease, cancellationToken) => InboxTable.RenewAsync(dataSource, ids, tokens, lease, cancellationToken), clock, options);

/// <summary>The outbox's held claims (replies being sent).</summary>
internal sealed class OutboxClaims(NpgsqlDataSource dataSource, TimeProvider clock, IOptions<WhatsAppProcessingOptions> options)
    : ClaimLeases((ids, tokens, lease, cancellationToken) => OutboxTable.RenewAsync(dataSource, ids, tokens, lease, cancellationToken), clock, options);

/// <summary>Renews this instance's leases on the inbox and the outbox while their work is in hand.</summary>
internal sealed partial class ClaimLeaseRenewer(
    InboxClaims inbox,
    OutboxClaims outbox,
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
            foreach (var leases in new ClaimLeases[] { inbox, outbox })
            {
                try
                {
                    await leases.RenewAsync(stoppingToken);
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    // The leases then run out on their own; holders stop starting sends well before they do.
                    outage.Observe(exception);
                    LogRenewalFailed(logger, exception);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not renew claim leases; held work may be taken over if this lasts")]
    private static partial void LogRenewalFailed(ILogger logger, Exception exception);
}
