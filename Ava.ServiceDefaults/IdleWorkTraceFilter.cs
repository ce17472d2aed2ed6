using System.Diagnostics;
using OpenTelemetry;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Keeps idle work out of the traces: database and cache calls that belong to no operation, and whatever runs within
/// a request kept out of the traces (a health probe's database and cache checks). Background workers poll, renew,
/// sweep and heartbeat every few seconds, and the orchestrator probes every service; each such call on its own would
/// be a trace of its own (about 25 a minute when idle) and bury the one trace per message that the dashboard is for.
/// A call made within an operation that is traced — a request, a message's processing, a sweep that found work and
/// traces it — is kept with it.
/// </summary>
/// <remarks>
/// A processor and not a sampler: only the activity tells its source. Unmarking it as recorded when it starts keeps
/// every exporter from sending it and, through this same rule, its children. Aspire samples every trace
/// (<c>always_on</c>, not parent-based), so a request's own filter alone would leave its children to be exported
/// under a parent that never is.
/// </remarks>
internal sealed class IdleWorkTraceFilter : BaseProcessor<Activity>
{
    /// <summary>Npgsql's activity source: commands, batches, COPY and physical opens of connections.</summary>
    public const string NpgsqlSource = "Npgsql";

    /// <summary>The StackExchange.Redis instrumentation that Aspire's Redis client brings along.</summary>
    public const string RedisSource = "OpenTelemetry.Instrumentation.StackExchangeRedis";

    public override void OnStart(Activity data)
    {
        var idle = data.ParentSpanId == default
            ? data.Source.Name is NpgsqlSource or RedisSource
            : data.Parent is { } parent
                ? !parent.Recorded
                : data.Source.Name is RedisSource && !SentUnderRecordedContext(data);
        if (idle)
        {
            data.IsAllDataRequested = false;
            data.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
        }
    }

    /// <summary>
    /// The Redis instrumentation makes its spans after the command, under the context of the operation that sent it
    /// rather than in it: whether that context was recorded is in its W3C id, <c>00-{trace}-{span}-{flags}</c>, bit 0
    /// "sampled". Read for those spans only: the id is made on first reading, and every other span with a parent elsewhere
    /// (a message's stages, on the webhook's hot path) would pay for it.
    /// </summary>
    private static bool SentUnderRecordedContext(Activity data) =>
        data.ParentId is not { Length: 55 } parentId || (HexDigit(parentId[54]) & (int)ActivityTraceFlags.Recorded) != 0;

    private static int HexDigit(char digit) => digit <= '9' ? digit - '0' : (digit | 0x20) - 'a' + 10;
}
