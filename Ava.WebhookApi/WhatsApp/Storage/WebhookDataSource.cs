using System.Globalization;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>What the stores need of their data source.</summary>
internal static class WebhookDataSource
{
    /// <summary>
    /// A webhook transaction waits on nothing but Postgres and, for strangers, one Redis call (5 s timeout): idle
    /// this long, its instance is gone or cut off. Postgres then ends the session and frees its row and advisory
    /// locks — before the claim lease (14 s) runs out, so the instance that takes the claim over finds them free.
    /// </summary>
    public static readonly TimeSpan IdleInTransactionTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A lock held longer than this belongs to a stuck holder. The wait ends with <c>lock_not_available</c>, an
    /// outage that hands the batch back without counting, instead of running into the 30 s command timeout, which
    /// reads as Postgres unreachable and holds back every takeover for a lease.
    /// </summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Below the 30 s command timeout, so that the server ends a runaway statement (and releases its locks) rather
    /// than the client giving up on it while it runs on.
    /// </summary>
    public static readonly TimeSpan StatementTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// TCP keepalives on both ends, so that a connection to a vanished peer is found dead within about 11 s of
    /// silence (5 s, then 3 probes 2 s apart) instead of the operating system's default of hours.
    /// </summary>
    public const int KeepaliveIdleSeconds = 5;

    public const int KeepaliveIntervalSeconds = 2;

    public const int KeepaliveCount = 3;

    /// <summary>
    /// The stores run a few fixed statements thousands of times a second: each connection prepares them on their
    /// second use, so that Postgres skips parsing and planning from then on. Npgsql's reset of a connection returned
    /// to the pool (seven statements on each reuse) is skipped: the stores leave no session state behind — no
    /// session settings, temporary tables, listeners or session-level advisory locks (theirs are transaction-scoped).
    /// The session's timeouts travel in the startup packet, so they hold from the first statement and need no
    /// privilege on the role (a managed Postgres may not let the migrations <c>ALTER ROLE … SET</c>).
    /// </summary>
    public static void Configure(NpgsqlDataSourceBuilder dataSource)
    {
        var settings = dataSource.ConnectionStringBuilder;
        settings.MaxAutoPrepare = 64;
        settings.AutoPrepareMinUsages = 2;
        settings.NoResetOnClose = true;

        settings.Options = string.Join(' ', new[] { settings.Options, SessionOptions }.Where(o => !string.IsNullOrWhiteSpace(o)));
        settings.TcpKeepAlive = true;
        settings.TcpKeepAliveTime = KeepaliveIdleSeconds;
        settings.TcpKeepAliveInterval = KeepaliveIntervalSeconds;
    }

    /// <summary>The server side of the session: its timeouts and its keepalives toward this instance.</summary>
    private static string SessionOptions => string.Join(' ',
        Setting("idle_in_transaction_session_timeout", Milliseconds(IdleInTransactionTimeout)),
        Setting("lock_timeout", Milliseconds(LockTimeout)),
        Setting("statement_timeout", Milliseconds(StatementTimeout)),
        Setting("tcp_keepalives_idle", KeepaliveIdleSeconds),
        Setting("tcp_keepalives_interval", KeepaliveIntervalSeconds),
        Setting("tcp_keepalives_count", KeepaliveCount));

    private static string Setting(string name, long value) => string.Create(CultureInfo.InvariantCulture, $"-c {name}={value}");

    private static long Milliseconds(TimeSpan value) => (long)value.TotalMilliseconds;
}
