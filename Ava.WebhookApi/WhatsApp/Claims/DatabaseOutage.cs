using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Claims;

/// <summary>
/// Remembers when this instance last failed to reach Postgres. After an outage every instance's leases have run
/// out at once; a holder that sent a reply during the outage must get the chance to record it before anyone takes
/// its claim over and sends the reply again. So expired claims are taken over only once Postgres has answered for
/// a whole lease.
/// </summary>
internal sealed class DatabaseOutage(TimeProvider clock, IOptions<WhatsAppProcessingOptions> options)
{
    private long _lastFailure = long.MinValue;

    public void Failed() => Interlocked.Exchange(ref _lastFailure, clock.GetTimestamp());

    /// <summary>
    /// Counts a failure as an outage when Postgres could not be reached (not, say, a deadlock, a bug, or Redis
    /// being away: holders record in Postgres whatever Redis does).
    /// </summary>
    public void Observe(Exception exception)
    {
        if (Outages.IsUnreachable(exception))
        {
            Failed();
        }
    }

    /// <summary>Whether expired claims of other holders may be taken over now.</summary>
    public bool MayTakeOver
    {
        get
        {
            var lastFailure = Interlocked.Read(ref _lastFailure);
            return lastFailure == long.MinValue || clock.GetElapsedTime(lastFailure) > options.Value.ClaimLease;
        }
    }
}
