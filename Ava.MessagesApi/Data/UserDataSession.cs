using Ava.Data;
using Ava.Data.Users;
using Ava.MessagesApi.Identity;
using Microsoft.EntityFrameworkCore;

namespace Ava.MessagesApi.Data;

/// <summary>
/// Runs a request's database work as the signed-in user: one transaction under the row-level-security role with
/// the user's id set (see <see cref="UserDataAccess"/>), so that even a query that forgot its user filter sees
/// only that user's rows.
/// </summary>
public sealed class UserDataSession(AvaDbContext db, CurrentUser user)
{
    public async Task<T> RunAsync<T>(Func<AvaDbContext, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var userId = user.Id;

        // The retrying execution strategy owns the transaction: a retry replays all of it, settings included.
        return await db.Database.CreateExecutionStrategy().ExecuteAsync(async token =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(token);
            await db.Database.ExecuteSqlAsync(
                $"SELECT set_config({UserDataAccess.UserIdSetting}, {userId.ToString()}, true)", token);
            await db.Database.ExecuteSqlRawAsync($"SET LOCAL ROLE {UserDataAccess.Role}", token);

            var result = await work(db, token);

            await transaction.CommitAsync(token);
            db.ChangeTracker.Clear();
            return result;
        }, cancellationToken);
    }
}
