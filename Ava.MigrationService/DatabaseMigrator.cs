using System.Diagnostics;
using Ava.Data;
using Ava.Data.Users;
using Ava.Data.WhatsApp;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;

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

    /// <summary>The password the webhook's login gets (a secret the AppHost passes to both).</summary>
    public const string WebhookApiPasswordKey = "WebhookApi:DatabasePassword";

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
            await strategy.ExecuteAsync(async () =>
            {
                await CreateHistoryTableAsync(db, stoppingToken);
                await db.Database.MigrateAsync(stoppingToken);
            });

            await strategy.ExecuteAsync(() => GrantWebhookRetentionAsync(db, stoppingToken));

            foreach (var (login, passwordKey) in new[]
            {
                (UserDataAccess.LoginRole, MessagesApiPasswordKey),
                (WebhookDataAccess.LoginRole, WebhookApiPasswordKey),
            })
            {
                if (configuration[passwordKey] is { Length: > 0 } password)
                {
                    await strategy.ExecuteAsync(() => SetPasswordAsync(db, login, password, stoppingToken));
                }
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

    /// <summary>
    /// Creates the database (if missing) and EF's migrations history table as Migrate would, only before it: on
    /// Postgres, Migrate learns that the table is missing by reading it, and EF logs that failed read as an error
    /// (npgsql/efcore.pg#3407), which would mark every first start red.
    /// </summary>
    private static async Task CreateHistoryTableAsync(AvaDbContext db, CancellationToken cancellationToken)
    {
        var database = db.GetService<IRelationalDatabaseCreator>();
        if (!await database.ExistsAsync(cancellationToken))
        {
            await database.CreateAsync(cancellationToken);
        }

        await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
    }

    /// <summary>
    /// The webhook's retention deletes old replies (phones and texts) and delivery statuses, as it does old
    /// deliveries. The schema's owner grants it on every run: a grant repeated is no change, and it needs no role
    /// privilege beyond owning the tables, so it holds on a managed Postgres too.
    /// </summary>
    private static Task GrantWebhookRetentionAsync(AvaDbContext db, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlRawAsync(GrantWebhookRetention, cancellationToken);

    private const string GrantWebhookRetention = $"GRANT DELETE ON outbound_replies, delivery_status_events TO {WebhookDataAccess.LoginRole};";

    /// <summary>ALTER ROLE takes no parameters: login and password travel in transaction-local settings instead.</summary>
    private static async Task SetPasswordAsync(AvaDbContext db, string login, string password, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync(
            $"SELECT set_config('ava.login', {login}, true), set_config('ava.login_password', {password}, true)", cancellationToken);
        await db.Database.ExecuteSqlRawAsync(
            "DO $$ BEGIN EXECUTE format('ALTER ROLE %I PASSWORD %L', current_setting('ava.login'), current_setting('ava.login_password')); END $$;",
            cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema is up to date at migration {Migration}")]
    private static partial void LogApplied(ILogger logger, string migration);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Applying migrations failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
