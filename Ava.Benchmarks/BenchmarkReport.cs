using System.Globalization;
using System.Text.Json;

namespace Ava.Benchmarks;

/// <summary>
/// A benchmark's figures: printed as an aligned table under a header that says when and on what machine they were
/// measured (figures from different machines or days are not comparable), and optionally written as JSON.
/// </summary>
public sealed class BenchmarkReport(string title)
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    private readonly List<(string? Heading, List<(string Label, string Value)> Rows)> _sections = [];
    private readonly Dictionary<string, object?> _figures = [];
    private readonly DateTimeOffset _at = DateTimeOffset.UtcNow;

    /// <summary>Starts a new group of rows under a heading.</summary>
    public BenchmarkReport Section(string heading)
    {
        _sections.Add((heading, []));
        return this;
    }

    /// <summary>A printed row; when <paramref name="key"/> is given the figure also goes into the JSON.</summary>
    public BenchmarkReport Row(string label, string value, string? key = null, object? figure = null)
    {
        if (_sections.Count == 0)
        {
            _sections.Add((null, []));
        }

        _sections[^1].Rows.Add((label, value));
        return key is null ? this : Figure(key, figure);
    }

    /// <summary>A figure for the JSON only; one that could not be measured (NaN) is null there.</summary>
    public BenchmarkReport Figure(string key, object? figure)
    {
        _figures[key] = figure is double number && !double.IsFinite(number) ? null : figure;
        return this;
    }

    public void Print()
    {
        var width = _sections.SelectMany(s => s.Rows).Select(r => r.Label.Length).DefaultIfEmpty(0).Max() + 2;
        Console.WriteLine();
        Console.WriteLine($"{title} — {_at:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"machine: {MachineDescription()}");
        foreach (var (heading, rows) in _sections)
        {
            Console.WriteLine();
            if (heading is not null)
            {
                Console.WriteLine(heading);
            }

            foreach (var (label, value) in rows)
            {
                Console.WriteLine($"  {label.PadRight(width)}{value}");
            }
        }

        Console.WriteLine();
    }

    public async Task WriteJsonAsync(string path)
    {
        var document = new Dictionary<string, object?>
        {
            ["benchmark"] = title,
            ["measured_at"] = _at,
            ["machine"] = MachineDescription(),
            ["figures"] = _figures,
        };
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(document, s_json));
        Console.WriteLine($"figures written to {path}");
    }

    /// <summary>Cores, CPU model and memory, from what Linux reports.</summary>
    public static string MachineDescription()
    {
        var cpu = ReadProcLine("/proc/cpuinfo", "model name") ?? "unknown CPU";
        var memory = ReadProcLine("/proc/meminfo", "MemTotal") is { } total
            && long.TryParse(total.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture, out var kib)
            ? $"{kib / 1024.0 / 1024.0:F1} GiB RAM"
            : "unknown RAM";
        return $"nproc {Environment.ProcessorCount}, {cpu}, {memory}";
    }

    // Formatting shared by the modes: invariant culture, thousands separated.
    public static string Count(double value) => double.IsFinite(value) ? value.ToString("N0", CultureInfo.InvariantCulture) : "–";

    public static string Decimal(double value, int decimals = 1) =>
        double.IsFinite(value) ? value.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "–";

    public static string Mebibytes(long? bytes) => bytes is { } b ? $"{b / 1024.0 / 1024.0:F0} MiB" : "–";

    private static string? ReadProcLine(string path, string key)
    {
        var line = ServiceProcesses.TryRead(path)?.Split('\n').FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        return line?[(line.IndexOf(':') + 1)..].Trim();
    }
}
