namespace Ava.AppHost;

/// <summary>
/// Postgres settings for Ava's workload — a stream of small transactions that each insert and update a few hundred
/// rows — applied to the local server and the container alike. Durability is untouched: every commit is still
/// synced to disk (<c>synchronous_commit</c> stays on). A managed Postgres wants the same (see docs/performance.md).
/// </summary>
public static class PostgresTuning
{
    public static readonly IReadOnlyList<string> Settings =
    [
        // A write-heavy stream fills the default 1 GB of WAL in under a minute; checkpoints that often write every
        // touched page again (full-page images) and stall commits.
        "max_wal_size=4GB",
        "min_wal_size=512MB",
        "checkpoint_timeout=15min",
        "checkpoint_completion_target=0.9",
        "wal_compression=on",
        "wal_buffers=16MB",
        "shared_buffers=256MB",

        // The inbox and outbox churn: vacuum them often and without throttling, so their indexes stay small.
        "autovacuum_naptime=10s",
        "autovacuum_vacuum_cost_limit=2000",
    ];
}
