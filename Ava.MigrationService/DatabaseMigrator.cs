using System.Diagnostics;
using Ava.Data;
using Ava.Data.Users;
using Microsoft.EntityFrameworkCore;

namespace Ava.MigrationService;

/// <summary>
/// Applies Ava's EF Core migrations and then stops the process: the APIs wait for it to complete, so they never
/// run against an old schema. A failure ends the process with a non-zero exit code, which keeps the APIs waiting
/// and shows the error in the dashboard.
/// </summary>
internal sealed partial class DatabaseMigrator(
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    IConfiguration configuration,
    ILogger<DatabaseMigrator> logger) : BackgroundService
{
    public const string ActivitySourceName = "Ava.Migrations";

    /// <summary>The password the messages API's login gets (a secret the AppHost passes to both).</summary>
    public const string MessagesApiPasswordKey = "MessagesApi:DatabasePassword";

    private static readonly ActivitySource s_activitySource = new(ActivitySourceName);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var activity = s_activitySource.StartActivity("migrate database", ActivityKind.Client);
        try
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AvaDbContext>();

            // The execution strategy retries the whole migration if Postgres is briefly unreachable; each migration
            // runs in its own transaction, so a retry resumes where the last attempt stopped.
            var strategy = db.Database.CreateExecutionStrategy();
            await strategy.ExecuteAsync(() => db.Database.MigrateAsync(stoppingToken));

            if (configuration[MessagesApiPasswordKey] is { Length: > 0 } password)
            {
                await strategy.ExecuteAsync(() => SetMessagesApiPasswordAsync(db, password, stoppingToken));
            }

            LogApplied(logger, db.Database.GetMigrations().LastOrDefault() ?? "none");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            activity?.AddException(exception);
            LogFailed(logger, exception);
            Environment.ExitCode = 1;
        }

        lifetime.StopApplication();
    }

    /// <summary>ALTER ROLE takes no parameters: the password travels in a transaction-local setting instead.</summary>
    private static async Task SetMessagesApiPasswordAsync(AvaDbContext db, string password, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"SELECT set_config('ava.messages_api_password', {password}, true)", cancellationToken);
        await db.Database.ExecuteSqlRawAsync(
            $"DO $$ BEGIN EXECUTE format('ALTER ROLE {UserDataAccess.LoginRole} PASSWORD %L', current_setting('ava.messages_api_password')); END $$;",
            cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema is up to date at migration {Migration}")]
    private static partial void LogApplied(ILogger logger, string migration);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Applying migrations failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
