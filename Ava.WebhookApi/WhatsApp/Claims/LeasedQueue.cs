using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Claims;

/// <summary>A row of a leased table as a stage holds it: claimed under <see cref="Token"/>.</summary>
internal interface IClaimedRow
{
    long Id { get; }

    Guid Token { get; }
}

/// <summary>
/// Claims up to <paramref name="limit"/> rows of a table under <paramref name="token"/>: those nobody holds whose time
/// has come, and — when <paramref name="takeOverExpired"/> — those whose holder's lease ran out. The SQL stays with
/// the table's store.
/// </summary>
internal delegate Task<List<T>> ClaimRows<T>(Guid token, int limit, TimeSpan lease, bool takeOverExpired, CancellationToken cancellationToken);

/// <summary>What a sweep of a leased table came to.</summary>
internal enum SweepResult
{
    /// <summary>The stage had no room to take more work: nothing was claimed, and the table may hold more.</summary>
    NoRoom,

    /// <summary>Postgres could not be reached: nothing was claimed.</summary>
    Unavailable,

    /// <summary>The claim ran; <see cref="Sweep{T}.Rows"/> holds what it found (perhaps nothing).</summary>
    Claimed,
}

/// <summary>The rows a sweep claimed, held by this instance until the stage calls <see cref="LeasedQueue{T}.Finished"/>.</summary>
internal sealed record Sweep<T>(SweepResult Result, List<T> Rows)
{
    /// <summary>A whole batch came back, so more is likely waiting.</summary>
    public bool Filled(int batchSize) => Result == SweepResult.Claimed && Rows.Count >= batchSize;
}

/// <summary>
/// One stage's work queue — the inbox, the turns waiting for the responder, the outbox — and the one owner of its
/// bookkeeping: rows of one table claimed under a token with a short lease (renewed while the work is in hand by
/// <see cref="ClaimLeaseRenewer"/>, so a dead instance's rows move on one lease later), room for the work this
/// instance holds, and the handover of rows the stage before stored already claimed for this one.
/// </summary>
/// <remarks>
/// Room is taken when rows are claimed or reserved for a handover, and given back only by <see cref="Finished"/> (or
/// by a reservation that handed less than it reserved): a stage calls it once for every row it took, whatever became
/// of the row. Writes that finish a row (complete, release) stay with the table's store and match the claim token,
/// so that a holder whose lease was taken over cannot overwrite the new holder's work.
/// </remarks>
internal abstract class LeasedQueue<T> : ILeasedQueue where T : IClaimedRow
{
    private readonly ClaimLeases _leases;
    private readonly WorkHandoff<T> _handoff;
    private readonly DatabaseOutage _outage;
    private readonly TimeProvider _clock;
    private readonly IOptions<WhatsAppProcessingOptions> _options;

    /// <param name="capacity">How many rows this instance's stage holds at most (claimed, reserved or handed over).</param>
    protected LeasedQueue(
        string table,
        RenewLeases renew,
        Func<int> capacity,
        DatabaseOutage outage,
        TimeProvider clock,
        IOptions<WhatsAppProcessingOptions> options)
    {
        Table = table;
        _leases = new ClaimLeases(renew, clock, options);
        _handoff = new WorkHandoff<T>(capacity);
        _outage = outage;
        _clock = clock;
        _options = options;
    }

    /// <summary>The table's name, for logs.</summary>
    public string Table { get; }

    /// <summary>Rows claimed, reserved or handed over and not yet finished.</summary>
    public int InHand => _handoff.InHand;

    /// <summary>Handed rows not yet taken.</summary>
    public int Waiting => _handoff.Waiting;

    /// <summary>Room left for more rows.</summary>
    public int Room => _handoff.Room;

    /// <summary>Signalled when rows are handed over or a sweep is asked for.</summary>
    public HandoffSignal Arrived => _handoff.Arrived;

    /// <summary>Signalled when room is freed.</summary>
    public HandoffSignal RoomFreed => _handoff.RoomFreed;

    /// <summary>
    /// Room for <paramref name="count"/> rows the stage before is about to store claimed for this one; null when they
    /// do not fit (store them unclaimed and <see cref="RequestSweep"/>). Hand them over through the reservation once
    /// committed; disposing it gives back whatever was not handed.
    /// </summary>
    public Handover? TryReserve(int count) => count > 0 && _handoff.TryReserve(count) ? new Handover(this, count) : null;

    /// <summary>Takes up to <paramref name="max"/> handed rows, oldest first.</summary>
    public List<T> Take(int max) => _handoff.Take(max);

    /// <summary>
    /// Claims up to <paramref name="limit"/> rows with <paramref name="claim"/>, as far as there is room (at least
    /// <paramref name="minimum"/>, or none); a claim is never cancelled half-way, since one committed but never read
    /// would wait out its lease.
    /// </summary>
    /// <param name="unavailable">Told when Postgres could not be reached (the outage is recorded already).</param>
    public async Task<Sweep<T>> SweepAsync(int limit, int minimum, ClaimRows<T> claim, Action<Exception> unavailable)
    {
        var room = Math.Min(_handoff.Room, limit);
        if (room < Math.Max(1, minimum) || !_handoff.TryReserve(room))
        {
            return new Sweep<T>(SweepResult.NoRoom, []);
        }

        var token = Guid.CreateVersion7();
        var claimedAt = _clock.GetTimestamp();
        List<T> claimed;
        try
        {
            claimed = await claim(token, room, _options.Value.ClaimLease, _outage.MayTakeOver, CancellationToken.None);
        }
        catch (Exception exception) when (Outages.IsOutage(exception))
        {
            _handoff.Unreserve(room);
            _outage.Observe(exception);
            unavailable(exception);
            return new Sweep<T>(SweepResult.Unavailable, []);
        }
        catch
        {
            _handoff.Unreserve(room);
            throw;
        }

        _handoff.Unreserve(room - claimed.Count);
        if (claimed.Count > 0)
        {
            _leases.Hold(token, claimed.Select(r => r.Id), claimedAt);
        }

        return new Sweep<T>(SweepResult.Claimed, claimed);
    }

    /// <summary>These rows are done with — finished, handed back or lost to another holder: no longer renewed, their room free.</summary>
    public void Finished(IReadOnlyCollection<IClaimedRow> rows)
    {
        foreach (var row in rows)
        {
            _leases.Finished(row.Token, row.Id);
        }

        _handoff.Unreserve(rows.Count);
    }

    /// <summary>
    /// How long this instance surely holds the row from now: zero once it no longer does (finished, or found taken
    /// over by a renewal). Work that must not outlive its claim (a send) starts only while this outlasts it.
    /// </summary>
    public TimeSpan Remaining(T row) => _leases.Remaining(row.Token, row.Id);

    /// <summary>Rows wait in the table unclaimed: this instance's stage sweeps at once instead of at its next poll.</summary>
    public void RequestSweep() => _handoff.RequestSweep();

    /// <returns>Whether a sweep was asked for since the last call.</returns>
    public bool TakeSweepRequest() => _handoff.TakeSweepRequest();

    /// <summary>
    /// The stage is stopping: nothing more is reserved, so that work made from now on is stored unclaimed for another
    /// instance (or this one after its restart) instead of waiting out a lease here.
    /// </summary>
    public void Close() => _handoff.Close();

    public Task RenewAsync(CancellationToken cancellationToken) => _leases.RenewAsync(cancellationToken);

    /// <summary>Room reserved for rows about to be stored claimed for this queue's stage.</summary>
    internal sealed class Handover(LeasedQueue<T> queue, int reserved) : IDisposable
    {
        private int _unused = reserved;

        /// <summary>
        /// Hands over the rows stored under <paramref name="token"/> (fewer than reserved when some were not
        /// inserted, e.g. seen before); their lease runs from <paramref name="claimedAt"/>, before the insert was sent.
        /// </summary>
        public void Hand(Guid token, IReadOnlyCollection<T> rows, long claimedAt)
        {
            if (rows.Count > _unused)
            {
                throw new InvalidOperationException($"{rows.Count} rows handed over with room for {_unused}.");
            }

            if (rows.Count > 0)
            {
                queue._leases.Hold(token, rows.Select(r => r.Id), claimedAt);
                _unused -= rows.Count;
                queue._handoff.Hand(rows);
            }

            Dispose();
        }

        /// <summary>Gives back the room not handed over.</summary>
        public void Dispose()
        {
            var unused = Interlocked.Exchange(ref _unused, 0);
            if (unused > 0)
            {
                queue._handoff.Unreserve(unused);
            }
        }
    }
}

/// <summary>What <see cref="ClaimLeaseRenewer"/> keeps alive: every stage's queue.</summary>
internal interface ILeasedQueue
{
    string Table { get; }

    Task RenewAsync(CancellationToken cancellationToken);
}
