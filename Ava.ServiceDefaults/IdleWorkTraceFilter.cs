using System.Diagnostics;
using OpenTelemetry;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Keeps database and cache calls that belong to no operation out of the traces. Background workers poll, renew,
/// sweep and heartbeat every few seconds; each such call on its own would be a trace of its own (about 25 a minute
/// when idle) and bury the one trace per message that the dashboard is for. A call made within an operation — a
/// request, a message's processing, a sweep that found work and traces it — has a parent and is kept with it.
/// </summary>
/// <remarks>
/// A processor and not a sampler: only the activity tells its source. Unmarking it as recorded when it starts keeps
/// every exporter from sending it and its children (the parent-based sampler drops them too).
/// </remarks>
internal sealed class IdleWorkTraceFilter : BaseProcessor<Activity>
{
    /// <summary>Npgsql's activity source: commands, batches, COPY and physical opens of connections.</summary>
    public const string NpgsqlSource = "Npgsql";

    /// <summary>The StackExchange.Redis instrumentation that Aspire's Redis client brings along.</summary>
    public const string RedisSource = "OpenTelemetry.Instrumentation.StackExchangeRedis";

    public override void OnStart(Activity data)
    {
        if (data.ParentSpanId == default && data.Source.Name is NpgsqlSource or RedisSource)
        {
            data.IsAllDataRequested = false;
            data.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
        }
    }
}
