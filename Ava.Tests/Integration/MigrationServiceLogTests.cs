using Microsoft.Extensions.DependencyInjection;

namespace Ava.Tests.Integration;

/// <summary>
/// The first start of a stack, on a database that has never seen Ava: the migrations resource applies everything
/// without an error in its log, which the dashboard would flag as red on the resource.
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class MigrationServiceLogTests(AvaStackFixture stack)
{
    private const string MigrationsResource = "migrations";

    [Fact]
    public async Task Migrating_a_new_database_logs_no_error()
    {
        // The stack's data is thrown away after each run, so its migrations ran on a new database.
        var migrations = stack.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == MigrationsResource);
        var lines = new List<LogLine>();
        await foreach (var batch in stack.App.Services.GetRequiredService<ResourceLoggerService>()
            .GetAllAsync(migrations).WithCancellation(TestContext.Current.CancellationToken))
        {
            lines.AddRange(batch);
        }

        Assert.Contains(lines, line => line.Content.Contains("Database schema is up to date", StringComparison.Ordinal));
        // Errors (and worse) go to stderr: the lines the dashboard and CI logs show as errors.
        var errors = lines.Where(line => line.IsErrorMessage).Select(line => line.Content).ToList();
        Assert.True(errors.Count == 0, "The migrations logged errors:\n" + string.Join('\n', errors));
    }
}
