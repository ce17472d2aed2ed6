using System.Globalization;

namespace Ava.Benchmarks;

/// <summary>
/// The command line: a mode, then <c>--name value</c> options. Each mode reads the options it knows (with their
/// defaults); anything left over is a mistake worth stopping for, since a mistyped option would otherwise
/// silently measure something else than intended.
/// </summary>
public sealed class BenchmarkArguments
{
    public const string Usage = """
        usage: dotnet run -c Release --project Ava.Benchmarks -- <mode> [options]
          latency   [--requests 1000]
          load      [--rate 2500] [--connections 32] [--duration 30] [--warmup 5] [--users 10000] [--numbers 64]
                    [--replicas 1] [--drain-timeout 120] [--json FILE]      (--rate 0: closed loop)
                    [--responder-delay S]   (a responder answering after S seconds instead of Ava's echo)
                    [--media-share 0.1] [--media-kib 1024] [--media-type image|video|document] [--media-downloads N]
                    [--media-mib-per-second M]   (the webhook's media write pace; 0: unpaced)
                                            (that share of the messages carries media of that size, captioned)
          messages  [--rows 1000000] [--users 1000] [--connections 16] [--duration 20] [--warmup 5] [--json FILE]
          faults    [--scenario all|postgres-down,redis-down,graph-failing,kill-webhook,replicas-racing,spool-full]
                    [--fault-seconds N (default per scenario: 20, graph-failing 60)] [--rate 200] [--connections 256]
                    [--users 1000] [--numbers 16] [--before 10] [--after 10] [--drain-timeout 120]
                    [--max-retry-delay S (graph-failing; default 5 for faults up to 300 s, else Ava's own; 0: Ava's own)]
                    [--spool-kib 64]
        """;

    private readonly Dictionary<string, string> _options;
    private readonly HashSet<string> _read = [];

    private BenchmarkArguments(string mode, Dictionary<string, string> options)
    {
        Mode = mode;
        _options = options;
    }

    public string Mode { get; }

    public static bool TryParse(string[] args, out BenchmarkArguments? arguments, out string? error)
    {
        arguments = null;
        error = null;
        if (args.Length == 0 || args[0].StartsWith('-'))
        {
            error = "no mode given";
            return false;
        }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || args[i].Length == 2)
            {
                error = $"expected an option, found '{args[i]}'";
                return false;
            }

            if (i + 1 >= args.Length)
            {
                error = $"{args[i]} needs a value";
                return false;
            }

            if (!options.TryAdd(args[i][2..], args[i + 1]))
            {
                error = $"{args[i]} given twice";
                return false;
            }
        }

        arguments = new BenchmarkArguments(args[0], options);
        return true;
    }

    public int Int(string name, int defaultValue, int min = 0)
    {
        if (!TryRead(name, out var text))
        {
            return defaultValue;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min)
        {
            throw new BenchmarkArgumentException($"--{name} must be a whole number ≥ {min}, not '{text}'");
        }

        return value;
    }

    public double Number(string name, double defaultValue, double min = 0)
    {
        if (!TryRead(name, out var text))
        {
            return defaultValue;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min)
        {
            throw new BenchmarkArgumentException($"--{name} must be a number ≥ {min.ToString(CultureInfo.InvariantCulture)}, not '{text}'");
        }

        return value;
    }

    public TimeSpan Seconds(string name, double defaultSeconds, double min = 0) => TimeSpan.FromSeconds(Number(name, defaultSeconds, min));

    public string? Text(string name) => TryRead(name, out var text) ? text : null;

    /// <summary>Call after reading every option of the mode: names the ones the mode does not know.</summary>
    public void RejectUnknown()
    {
        var unknown = _options.Keys.Where(name => !_read.Contains(name)).Select(name => "--" + name).ToList();
        if (unknown.Count > 0)
        {
            throw new BenchmarkArgumentException($"'{Mode}' has no option {string.Join(", ", unknown)}");
        }
    }

    private bool TryRead(string name, out string text)
    {
        _read.Add(name);
        return _options.TryGetValue(name, out text!);
    }
}

public sealed class BenchmarkArgumentException(string message) : Exception(message);
