namespace Ava.Benchmarks;

/// <summary>Collects latency samples (milliseconds, or any unit) from many threads; sorted once at the end.</summary>
public sealed class LatencySamples
{
    private readonly Lock _lock = new();
    private readonly List<double> _samples = [];

    public void Add(double value)
    {
        lock (_lock)
        {
            _samples.Add(value);
        }
    }

    public Latencies Summarise()
    {
        lock (_lock)
        {
            return new Latencies([.. _samples]);
        }
    }
}

/// <summary>A sorted set of samples and its percentiles (nearest rank).</summary>
public sealed class Latencies
{
    private readonly double[] _sorted;

    public Latencies(double[] samples)
    {
        _sorted = samples;
        Array.Sort(_sorted);
    }

    public int Count => _sorted.Length;

    public double Max => _sorted.Length == 0 ? double.NaN : _sorted[^1];

    public double P50 => Percentile(50);

    public double P90 => Percentile(90);

    public double P95 => Percentile(95);

    public double P99 => Percentile(99);

    public double Percentile(double p) => _sorted.Length == 0
        ? double.NaN
        : _sorted[(int)Math.Clamp(Math.Ceiling(p / 100 * _sorted.Length) - 1, 0, _sorted.Length - 1)];
}
