using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ava.Tests.Integration;

/// <summary>
/// A test run leaves nothing behind: no Postgres or Redis process (local executables) or container and volume (where an
/// engine answers), no data directory.
/// </summary>
[Collection(Name)]
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StackTeardownTests
{
    public const string Name = "Stack teardown";

    // Aspire's name for a container's id among a resource's properties (the dashboard shows it).
    private const string ContainerIdProperty = "container.id";

    [Fact]
    public async Task Stopping_the_stack_ends_its_postgres_and_redis_and_removes_its_throwaway_data()
    {
        var before = ThrowawayDirectoriesOfThisProcess();
        var fixture = new AvaStackFixture();
        await fixture.InitializeAsync();
        var dataDirectory = Assert.Single(ThrowawayDirectoriesOfThisProcess().Except(before));
        var engine = fixture.App.Services.GetRequiredService<IConfiguration>()["ASPIRE_CONTAINER_RUNTIME"];
        var containers = await ContainerIdsAsync(fixture.App);
        var volumes = engine is null ? [] : Lines(Engine(engine, "volume", "ls", "--quiet", "--filter", $"name={Path.GetFileName(dataDirectory)}-"));
        var serverProcesses = ProcessesUsing(dataDirectory);

        if (containers.Count == 0)
        {
            Assert.NotEmpty(serverProcesses);
        }
        else
        {
            Assert.NotNull(engine);
            Assert.Equal(2, containers.Count);
            Assert.Single(volumes);
        }

        await fixture.DisposeAsync();

        Assert.False(Directory.Exists(dataDirectory), $"{dataDirectory} is left behind");
        Assert.Empty(await WhileAnyAliveAsync(serverProcesses, TimeSpan.FromSeconds(15)));
        if (engine is not null)
        {
            Assert.All(containers, container => Assert.Null(Engine(engine, "container", "inspect", container)));
            Assert.All(volumes, volume => Assert.Null(Engine(engine, "volume", "inspect", volume)));
        }
    }

    /// <summary>The engine's ids of the stack's containers, none where Postgres and Redis run as local executables.</summary>
    private static async Task<List<string>> ContainerIdsAsync(DistributedApplication app)
    {
        var ids = new List<string>();
        foreach (var container in app.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ContainerResource>())
        {
            var running = await app.ResourceNotifications.WaitForResourceAsync(
                container.Name,
                resource => resource.Snapshot.Properties.Any(property => property.Name == ContainerIdProperty && property.Value is string { Length: > 0 }),
                TestContext.Current.CancellationToken);
            ids.Add((string)running.Snapshot.Properties.Single(property => property.Name == ContainerIdProperty).Value!);
        }

        return ids;
    }

    /// <summary>What an engine command writes, or null when it fails (e.g. inspecting what no longer exists).</summary>
    private static string? Engine(string engine, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(engine, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        _ = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        process.WaitForExit();
        return process.ExitCode == 0 ? output.Result : null;
    }

    private static List<string> Lines(string? output) => [.. (output ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static List<string> ThrowawayDirectoriesOfThisProcess() =>
        Directory.EnumerateDirectories(Path.GetTempPath(), $"ava-run-{Environment.ProcessId}-*").ToList();

    /// <summary>Processes whose command line names the directory (postgres -D …, redis-server --dir …).</summary>
    private static List<int> ProcessesUsing(string directory) =>
        Directory.EnumerateDirectories("/proc")
            .Select(path => int.TryParse(Path.GetFileName(path), out var pid) ? pid : 0)
            .Where(pid => pid > 0)
            .Where(pid =>
            {
                try
                {
                    var commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
                    return commandLine.Contains(directory, StringComparison.Ordinal);
                }
                catch (IOException)
                {
                    return false;
                }
                catch (UnauthorizedAccessException)
                {
                    return false;
                }
            })
            .ToList();

    private static async Task<List<int>> WhileAnyAliveAsync(List<int> pids, TimeSpan patience)
    {
        var deadline = Stopwatch.StartNew();
        List<int> alive;
        do
        {
            alive = pids.Where(pid => File.Exists($"/proc/{pid}/cmdline") && File.ReadAllText($"/proc/{pid}/cmdline").Length > 0).ToList();
            if (alive.Count == 0)
            {
                break;
            }

            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
        while (deadline.Elapsed < patience);

        return alive;
    }
}
