namespace Ava.WebhookApi.WhatsApp.Claims;

/// <summary>
/// Rows this instance claimed under one token, and until when (on this machine's monotonic clock) their lease
/// surely holds: the lease counted from when the last successful renewal was <em>sent</em>, so never overestimated.
/// </summary>
internal sealed class HeldClaim
{
    private readonly HashSet<long> _ids;
    private readonly Lock _lock = new();
    private long _validUntil;

    public HeldClaim(Guid token, IEnumerable<long> ids, long validUntil)
    {
        Token = token;
        _ids = [.. ids];
        _validUntil = validUntil;
    }

    public Guid Token { get; }

    public bool IsEmpty
    {
        get
        {
            lock (_lock)
            {
                return _ids.Count == 0;
            }
        }
    }

    /// <summary>Until when the lease surely holds, in <see cref="TimeProvider.GetTimestamp"/> units.</summary>
    public long ValidUntil => Interlocked.Read(ref _validUntil);

    public long[] Ids()
    {
        lock (_lock)
        {
            return [.. _ids];
        }
    }

    public bool Holds(long id)
    {
        lock (_lock)
        {
            return _ids.Contains(id);
        }
    }

    /// <summary>The row is finished or handed back: no longer renewed.</summary>
    public void Forget(long id)
    {
        lock (_lock)
        {
            _ids.Remove(id);
        }
    }

    /// <summary>
    /// A renewal extended the lease of the rows in <paramref name="stillHeld"/> (this claim's rows still under its
    /// token); the others are lost — taken over, or finished meanwhile — and no longer count as held.
    /// </summary>
    public void Renewed(long validUntil, HashSet<long> stillHeld)
    {
        lock (_lock)
        {
            _ids.IntersectWith(stillHeld);
            if (_ids.Count > 0 && validUntil > _validUntil)
            {
                Interlocked.Exchange(ref _validUntil, validUntil);
            }
        }
    }
}
