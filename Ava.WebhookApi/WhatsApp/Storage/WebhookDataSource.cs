using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>What the stores need of their data source.</summary>
internal static class WebhookDataSource
{
    /// <summary>
    /// The stores run a few fixed statements thousands of times a second: each connection prepares them on their
    /// second use, so that Postgres skips parsing and planning from then on. Npgsql's reset of a connection returned
    /// to the pool (seven statements on each reuse) is skipped: the stores leave no session state behind — no
    /// session settings, temporary tables, listeners or session-level advisory locks (theirs are transaction-scoped).
    /// </summary>
    public static void Configure(NpgsqlDataSourceBuilder dataSource)
    {
        dataSource.ConnectionStringBuilder.MaxAutoPrepare = 64;
        dataSource.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        dataSource.ConnectionStringBuilder.NoResetOnClose = true;
    }
}
