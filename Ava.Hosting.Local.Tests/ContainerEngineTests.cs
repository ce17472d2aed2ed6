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
}
