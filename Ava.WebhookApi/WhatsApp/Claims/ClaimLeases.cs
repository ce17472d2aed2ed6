using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Claims;

/// <summary>Renews, in one statement, the leases of every row of one table that this instance holds.</summary>
/// <returns>The rows whose lease was extended: still held under these tokens.</returns>
internal delegate Task<IReadOnlySet<(long Id, Guid Token)>> RenewLeases(long[] ids, Guid[] tokens, TimeSpan lease, CancellationToken cancellationToken);

/// <summary>
/// The claims this instance holds on one table, kept alive while the work is in hand: <see cref="ClaimLeaseRenewer"/>
/// renews them all every <see cref="WhatsAppProcessingOptions.LeaseRenewalInterval"/>. A dead instance stops
/// renewing, so its rows are taken over one short lease later. Part of <see cref="LeasedQueue{T}"/>.
/// </summary>
internal sealed class ClaimLeases(RenewLeases renew, TimeProvider clock, IOptions<WhatsAppProcessingOptions> options)
{
    private readonly ConcurrentDictionary<Guid, HeldClaim> _held = new();

    /// <summary>A claim just made: its lease runs from now (the claim statement was sent before this moment).</summary>
    public HeldClaim Hold(Guid token, IEnumerable<long> ids, long claimSentAt)
    {
        var claim = new HeldClaim(token, ids, claimSentAt + Ticks(options.Value.ClaimLease));
        _held[token] = claim;
        return claim;
    }

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

    /// <summary>
    /// How long this instance surely holds the row under <paramref name="token"/> from now: zero once the row is no
    /// longer held under it (finished, or found taken over by a renewal).
    /// </summary>
    public TimeSpan Remaining(Guid token, long id)
    {
        var now = clock.GetTimestamp();
        return _held.TryGetValue(token, out var claim) && claim.Holds(id) && claim.ValidUntil > now
            ? clock.GetElapsedTime(now, claim.ValidUntil)
            : TimeSpan.Zero;
    }

    public async Task RenewAsync(CancellationToken cancellationToken)
    {
        var claims = _held.Values.Where(c => !c.IsEmpty).ToList();
        if (claims.Count == 0)
        {
            return;
        }

        // In id order, the order in which every statement that updates these rows locks them.
        var rows = claims.SelectMany(c => c.Ids().Select(id => (Id: id, c.Token))).OrderBy(r => r.Id).ToList();
        var sentAt = clock.GetTimestamp();
        var lease = options.Value.ClaimLease;
        var renewed = await renew([.. rows.Select(r => r.Id)], [.. rows.Select(r => r.Token)], lease, cancellationToken);
        foreach (var claim in claims)
        {
            claim.Renewed(sentAt + Ticks(lease), [.. renewed.Where(r => r.Token == claim.Token).Select(r => r.Id)]);
        }
    }

    private long Ticks(TimeSpan duration) => (long)(duration.TotalSeconds * clock.TimestampFrequency);
}
