namespace Ava.Benchmarks;

/// <summary>
/// Per benchmark message (numbered 0, 1, 2 …): when something first happened to it (a Stopwatch timestamp) and how
/// many times. Thread-safe and allocation-free per event, in pages allocated as the numbers grow, because it sits on
/// the hot path of the load generator and of the Graph API stand-in.
/// </summary>
public sealed class SequenceLog
{
    private const int PageBits = 16;
    private const int PageSize = 1 << PageBits;
    private const int MaxPages = 1 << 14;

    private readonly Page?[] _pages = new Page?[MaxPages];
    private long _highest = -1;
    private long _events;
    private long _distinct;

    /// <summary>How many events were recorded, repeats included.</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>How many numbers have at least one event.</summary>
    public long Distinct => Interlocked.Read(ref _distinct);

    /// <summary>The highest number recorded so far, -1 when none.</summary>
    public long Highest => Interlocked.Read(ref _highest);

    public void Record(long sequence, long timestamp)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sequence, (long)MaxPages * PageSize);

        var page = PageOf(sequence);
        var slot = (int)(sequence & (PageSize - 1));
        // The time is set before the count, so that whoever sees a count also sees the time (timestamps are never 0).
        if (Interlocked.CompareExchange(ref page.First[slot], timestamp, 0) == 0)
        {
            Interlocked.Increment(ref _distinct);
        }

        Interlocked.Increment(ref page.Counts[slot]);
        Interlocked.Increment(ref _events);

        long highest;
        while (sequence > (highest = Interlocked.Read(ref _highest)) && Interlocked.CompareExchange(ref _highest, sequence, highest) != highest)
        {
        }
    }

    /// <summary>How many times the number was recorded.</summary>
    public int Count(long sequence) => _pages[sequence >> PageBits] is { } page ? Volatile.Read(ref page.Counts[sequence & (PageSize - 1)]) : 0;

    /// <summary>When the number was first recorded; only meaningful when <see cref="Count"/> is above zero.</summary>
    public long FirstAt(long sequence) => _pages[sequence >> PageBits] is { } page ? Interlocked.Read(ref page.First[sequence & (PageSize - 1)]) : 0;

    private Page PageOf(long sequence)
    {
        var index = (int)(sequence >> PageBits);
        return Volatile.Read(ref _pages[index])
            ?? Interlocked.CompareExchange(ref _pages[index], new Page(), null)
            ?? _pages[index]!;
    }

    private sealed class Page
    {
        public readonly int[] Counts = new int[PageSize];
        public readonly long[] First = new long[PageSize];
    }
}
