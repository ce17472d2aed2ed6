using System.Diagnostics;

namespace Ava.Tests.Integration;

/// <summary>A test run leaves nothing behind: no Postgres or Redis process, no data directory.</summary>
[Collection(Name)]
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StackTeardownTests
{
    public const string Name = "Stack teardown";

    [Fact]
    public async Task Stopping_the_stack_ends_its_processes_and_removes_its_throwaway_data()
    {
        var before = ThrowawayDirectoriesOfThisProcess();
        var fixture = new AvaStackFixture();
        await fixture.InitializeAsync();
        var dataDirectories = ThrowawayDirectoriesOfThisProcess().Except(before).ToList();
        var serverProcesses = ProcessesUsing(dataDirectories);

        Assert.NotEmpty(dataDirectories);
        Assert.NotEmpty(serverProcesses);

        await fixture.DisposeAsync();

        Assert.All(dataDirectories, directory => Assert.False(Directory.Exists(directory), $"{directory} is left behind"));
        var survivors = await WhileAnyAliveAsync(serverProcesses, TimeSpan.FromSeconds(15));
        Assert.Empty(survivors);
    }

    private static List<string> ThrowawayDirectoriesOfThisProcess() =>
        Directory.EnumerateDirectories(Path.GetTempPath(), $"ava-run-{Environment.ProcessId}-*").ToList();

    /// <summary>Processes whose command line names one of the directories (postgres -D …, redis-server --dir …).</summary>
    private static List<int> ProcessesUsing(List<string> directories) =>
        Directory.EnumerateDirectories("/proc")
            .Select(path => int.TryParse(Path.GetFileName(path), out var pid) ? pid : 0)
            .Where(pid => pid > 0)
            .Where(pid =>
            {
                try
                {
                    var commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
                    return directories.Any(commandLine.Contains);
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
