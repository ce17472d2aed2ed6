using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Claims;

/// <summary>Renews, in one statement, the leases of every row of one table that this instance holds.</summary>
/// <returns>The ids whose lease was extended (still held under their token).</returns>
internal delegate Task<IReadOnlySet<long>> RenewLeases(long[] ids, Guid[] tokens, TimeSpan lease, CancellationToken cancellationToken);

/// <summary>
/// The claims this instance holds on one table (the inbox or the outbox), kept alive while the work is in hand:
/// <see cref="ClaimLeaseRenewer"/> renews them all every <see cref="WhatsAppProcessingOptions.LeaseRenewalInterval"/>.
/// A dead instance stops renewing, so its rows are taken over one short lease later.
/// </summary>
internal abstract class ClaimLeases(RenewLeases renew, TimeProvider clock, IOptions<WhatsAppProcessingOptions> options)
{
    private readonly ConcurrentDictionary<Guid, HeldClaim> _held = new();

    /// <summary>A claim just made: its lease runs from now (the claim statement was sent before this moment).</summary>
    public HeldClaim Hold(Guid token, IEnumerable<long> ids, long claimSentAt)
    {
        var claim = new HeldClaim(token, ids, claimSentAt + Ticks(options.Value.ClaimLease));
        _held[token] = claim;
        return claim;
    }

    public void Release(HeldClaim claim) => _held.TryRemove(claim.Token, out _);

    /// <summary>One row of a claim is finished; the claim is let go with its last row.</summary>
    public void Finished(Guid token, long id)
    {
        if (_held.TryGetValue(token, out var claim))
        {
            claim.Forget(id);
            if (claim.IsEmpty)
            {
                _held.TryRemove(token, out _);
            }
        }
    }

    /// <summary>How long the lease of the claim under <paramref name="token"/> surely holds from now (zero when it is not held).</summary>
    public TimeSpan Remaining(Guid token)
    {
        var now = clock.GetTimestamp();
        return _held.TryGetValue(token, out var claim) && claim.ValidUntil > now ? clock.GetElapsedTime(now, claim.ValidUntil) : TimeSpan.Zero;
    }

    public async Task RenewAsync(CancellationToken cancellationToken)
    {
        var claims = _held.Values.Where(c => !c.IsEmpty).ToList();
        if (claims.Count == 0)
        {
            return;
        }

        var rows = claims.SelectMany(c => c.Ids().Select(id => (Id: id, c.Token))).ToList();
        var sentAt = clock.GetTimestamp();
        var lease = options.Value.ClaimLease;
        var renewed = await renew([.. rows.Select(r => r.Id)], [.. rows.Select(r => r.Token)], lease, cancellationToken);
        foreach (var claim in claims)
        {
            claim.Renewed(sentAt + Ticks(lease), renewed);
        }
    }

    private long Ticks(TimeSpan duration) => (long)(duration.TotalSeconds * clock.TimestampFrequency);
}
