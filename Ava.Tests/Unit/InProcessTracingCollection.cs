namespace Ava.Tests.Unit;

/// <summary>
/// Tests that export a service's traces to memory. A tracer listens to its sources across the whole process, so these
/// run alone: another test's requests or database calls at the same moment would be exported with theirs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InProcessTracingCollection
{
    public const string Name = "Traces in process";
}
