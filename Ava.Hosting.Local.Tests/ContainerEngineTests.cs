using System.Diagnostics;

namespace Ava.Hosting.Local.Tests;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ContainerEngineTests
{
    [Theory]
    [InlineData("docker")]
    [InlineData("podman")]
    public void An_engine_whose_daemon_answers_is_chosen(string engine)
    {
        using var standIn = new StandInEngine(engine);

        Assert.Equal(standIn.Executable, ContainerEngine.FindAnsweringRuntime(standIn.Executable));
    }

    [Fact]
    public void Docker_installed_but_not_running_is_not_chosen()
    {
        using var docker = new StandInEngine("docker");
        docker.StopDaemon();

        Assert.Null(ContainerEngine.FindAnsweringRuntime(docker.Executable));
    }

    [Fact]
    public void A_throwaway_run_removes_its_volumes_when_it_ends_even_while_the_engine_still_holds_them_for_a_moment()
    {
        using var docker = new StandInEngine();
        var volumes = new ThrowawayVolumes(docker.Executable, "ava-run-1-a");
        var postgres = volumes.Add("ava-postgres-data");
        docker.HasVolume(postgres, timesInUse: 2);
        docker.HasVolume("ava-postgres-data");

        volumes.RemoveAll();

        Assert.Equal("ava-run-1-a-ava-postgres-data", postgres);
        Assert.Equal(["ava-postgres-data"], docker.Volumes);
        Assert.Equal(3, docker.Calls.Count(call => call == $"volume rm --force {postgres}"));
    }

    [Fact]
    public void Volumes_left_by_runs_no_longer_running_are_removed_and_no_others()
    {
        using var docker = new StandInEngine();
        var deadRun = $"ava-run-{DeadProcessId()}-b-ava-postgres-data";
        var liveRun = $"ava-run-{Environment.ProcessId}-c-ava-postgres-data";
        foreach (var volume in new[] { deadRun, liveRun, "ava-postgres-data", "ava-run-notes" })
        {
            docker.HasVolume(volume);
        }

        new ThrowawayVolumes(docker.Executable, $"ava-run-{Environment.ProcessId}-d").RemoveThoseOfDeadRuns();

        Assert.Equal([liveRun, "ava-postgres-data", "ava-run-notes"], docker.Volumes);
    }

    private static int DeadProcessId()
    {
        using var process = Process.Start("true");
        process.WaitForExit();
        return process.Id;
    }
}
