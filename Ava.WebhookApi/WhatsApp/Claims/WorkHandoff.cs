using System.Collections.Concurrent;

namespace Ava.WebhookApi.WhatsApp.Claims;

/// <summary>
/// The room a stage has for work, and the work handed straight to it in this process: rows the stage before inserted
/// already claimed for it (no claim query, no second write). Room is reserved before the rows are written, so a busy
/// stage never gets more than it can hold; whatever does not fit is written unclaimed and found by the next sweep,
/// here or on another instance. Part of <see cref="LeasedQueue{T}"/>, which owns its accounting.
/// </summary>
internal sealed class WorkHandoff<T>(Func<int> capacity)
{
    private readonly ConcurrentQueue<T> _items = new();
    private int _reserved;
    private int _sweepRequested;
    private volatile bool _closed;

    /// <summary>Work reserved or handed over and not yet finished.</summary>
    public int InHand => Volatile.Read(ref _reserved);

    /// <summary>Handed items not yet taken.</summary>
    public int Waiting => _items.Count;

    /// <summary>Room left for work not yet reserved.</summary>
    public int Room => Math.Max(0, capacity() - InHand);

    /// <returns>Whether <paramref name="count"/> items fit; if so their room is held until <see cref="Unreserve"/>.</returns>
    public bool TryReserve(int count)
    {
        while (!_closed)
        {
            var reserved = Volatile.Read(ref _reserved);
            if (reserved + count > capacity())
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _reserved, reserved + count, reserved) == reserved)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The next stage is stopping: nothing more is reserved, so that work made from now on is stored unclaimed for
    /// another instance (or this one after its restart) instead of waiting out a lease here.
    /// </summary>
    public void Close() => _closed = true;

    /// <summary>Reserved work is finished, or was not made after all.</summary>
    public void Unreserve(int count)
    {
        Interlocked.Add(ref _reserved, -count);
        RoomFreed.Notify();
    }

    /// <summary>Hands over reserved work.</summary>
    public void Hand(IEnumerable<T> items)
    {
        foreach (var item in items)
        {
            _items.Enqueue(item);
        }

        Arrived.Notify();
    }

    /// <summary>Takes up to <paramref name="max"/> handed items, oldest first.</summary>
    public List<T> Take(int max)
    {
        var taken = new List<T>(Math.Min(max, _items.Count));
        while (taken.Count < max && _items.TryDequeue(out var item))
        {
            taken.Add(item);
        }

        return taken;
    }

    /// <summary>
    /// Work waits in the table unclaimed (it did not fit the handoff, came from the spool, or is to be retried): the
    /// next stage sweeps for it at once instead of at its next poll.
    /// </summary>
    public void RequestSweep()
    {
        Volatile.Write(ref _sweepRequested, 1);
        Arrived.Notify();
    }

    /// <returns>Whether a sweep was asked for since the last call.</returns>
    public bool TakeSweepRequest() => Interlocked.Exchange(ref _sweepRequested, 0) == 1;

    /// <summary>Signalled when work is handed over or a sweep is asked for.</summary>
    public HandoffSignal Arrived { get; } = new();

    /// <summary>Signalled when room is freed.</summary>
    public HandoffSignal RoomFreed { get; } = new();
}

internal sealed class HandoffSignal : WorkSignal;
