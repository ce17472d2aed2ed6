using System.Diagnostics;
using Ava.Benchmarks;

// Measures Ava on the real stack (see BenchmarkArguments.Usage): each mode prints its figures next to a baseline
// measured in the same run, because absolute numbers only mean something against the same machine at the same time.
if (args is [ResponderStandIn.Mode, ..])
{
    // Not a benchmark: the responder stand-in a load run starts in a process of its own.
    return await ResponderStandIn.RunAsync(args);
}

if (!BenchmarkArguments.TryParse(args, out var arguments, out var error))
{
    return Usage(error!);
}

Func<BenchmarkArguments, Task<int>>? mode = arguments!.Mode switch
{
    "latency" => LatencyBenchmark.RunAsync,
    "load" => LoadBenchmark.RunAsync,
    "faults" => FaultBenchmark.RunAsync,
    "messages" => MessagesBenchmark.RunAsync,
    _ => null,
};
if (mode is null)
{
    return Usage($"unknown mode '{arguments.Mode}'");
}

var started = Stopwatch.GetTimestamp();
try
{
    var exitCode = await mode(arguments);
    Console.WriteLine($"Done in {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s, stack start and stop included.");
    return exitCode;
}
catch (BenchmarkArgumentException exception)
{
    return Usage(exception.Message);
}

static int Usage(string problem)
{
    Console.Error.WriteLine(problem);
    Console.Error.WriteLine(BenchmarkArguments.Usage);
    return 2;
}
