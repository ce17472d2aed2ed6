using Ava.Data.Users;
using Npgsql;

namespace Ava.MessagesApi.Data;

/// <summary>
/// Runs statements as a signed-in user in one round trip: a batch whose first statement sets the user's id and the
/// row-level-security role (see <see cref="UserDataAccess"/>), followed by the caller's statements. Postgres runs a
/// batch as one implicit transaction, so both settings bind every statement after them and end with it: the
/// connection goes back to the pool as it came. The hot-path alternative to <see cref="UserDataSession"/>, which
/// costs four round trips (begin, user, role, commit).
/// </summary>
public sealed class UserDataBatches(NpgsqlDataSource dataSource)
{
    /// <summary>Transaction-local (<c>is_local</c>), so nothing of it outlives the batch.</summary>
    internal const string AsUserSql =
        $"SELECT set_config('{UserDataAccess.UserIdSetting}', $1::text, true), set_config('role', '{UserDataAccess.Role}', true)";

    /// <summary>
    /// What the batches need of their data source. Statements run a few times on a connection are prepared there,
    /// so later runs skip parsing and planning. Npgsql's reset of a connection returned to the pool is skipped: it
    /// would run seven more statements on each reuse (role, settings, cursors, listeners, advisory locks, sequences,
    /// temporary tables), and there is nothing to reset, because these batches leave no session state behind.
    /// Whoever uses this data source for anything else must keep it that way.
    /// </summary>
    public static void ConfigureDataSource(NpgsqlDataSourceBuilder dataSource)
    {
        dataSource.ConnectionStringBuilder.MaxAutoPrepare = 32;
        dataSource.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        dataSource.ConnectionStringBuilder.NoResetOnClose = true;
    }

    /// <summary>A batch that will run as <paramref name="userId"/>; add its statements, then execute it.</summary>
    public UserDataBatch Create(Guid userId)
    {
        var batch = dataSource.CreateBatch();
        var asUser = new NpgsqlBatchCommand(AsUserSql);
        asUser.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = userId });
        batch.BatchCommands.Add(asUser);
        return new UserDataBatch(batch);
    }
}
