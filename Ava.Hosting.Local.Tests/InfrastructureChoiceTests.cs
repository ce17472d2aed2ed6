namespace Ava.Hosting.Local.Tests;

public sealed class InfrastructureChoiceTests
{
    private static readonly LocalToolset s_completeTools =
        new("/usr/bin/postgres", "/usr/bin/initdb", "/usr/bin/redis-server", RunAsUser: null, RunningAsRoot: false);

    private static readonly LocalToolset s_noTools =
        new(Postgres: null, Initdb: null, RedisServer: null, RunAsUser: null, RunningAsRoot: false);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("auto")]
    [InlineData(" Auto ")]
    public void Automatic_choice_takes_containers_when_an_engine_answers(string? requested)
    {
        var decision = InfrastructureChoice.Decide(requested, publishing: false, () => "podman", NotAsked<LocalToolset>);

        Assert.Equal(InfrastructureMode.Containers, decision.Mode);
        Assert.Equal("podman", decision.ContainerRuntime);
    }

    [Fact]
    public void Automatic_choice_takes_local_executables_when_no_engine_answers()
    {
        var decision = InfrastructureChoice.Decide("auto", publishing: false, () => null, () => s_completeTools);

        Assert.Equal(InfrastructureMode.Local, decision.Mode);
        Assert.Same(s_completeTools, decision.LocalTools);
    }

    [Fact]
    public void Automatic_choice_with_neither_way_names_what_to_install()
    {
        var problem = Assert.Throws<InfrastructureUnavailableException>(
            () => InfrastructureChoice.Decide("auto", publishing: false, () => null, () => s_noTools));

        Assert.Contains("Docker or Podman", problem.Message);
        Assert.Contains("postgres, initdb", problem.Message);
        Assert.Contains("redis-server", problem.Message);
    }

    [Fact]
    public void Forced_local_is_honoured_even_with_an_engine_and_never_probes_it()
    {
        var decision = InfrastructureChoice.Decide("local", publishing: false, NotAsked<string?>, () => s_completeTools);

        Assert.Equal(InfrastructureMode.Local, decision.Mode);
    }

    [Fact]
    public void Forced_local_without_the_binaries_says_which_are_missing()
    {
        var onlyPostgres = s_completeTools with { RedisServer = null };

        var problem = Assert.Throws<InfrastructureUnavailableException>(
            () => InfrastructureChoice.Decide("local", publishing: false, NotAsked<string?>, () => onlyPostgres));

        Assert.Contains("redis-server", problem.Message);
        Assert.DoesNotContain("initdb", problem.Message);
    }

    [Fact]
    public void Forced_containers_never_fall_back_to_local()
    {
        Assert.Equal(InfrastructureMode.Containers, InfrastructureChoice.Decide("containers", publishing: false, () => "docker", NotAsked<LocalToolset>).Mode);

        var problem = Assert.Throws<InfrastructureUnavailableException>(
            () => InfrastructureChoice.Decide("containers", publishing: false, () => null, NotAsked<LocalToolset>));
        Assert.Contains("no container engine answered", problem.Message);
    }

    [Fact]
    public void An_unknown_choice_is_refused()
    {
        var problem = Assert.Throws<InfrastructureUnavailableException>(
            () => InfrastructureChoice.Decide("kubernetes", publishing: false, () => "docker", () => s_completeTools));

        Assert.Contains("'auto', 'containers' or 'local'", problem.Message);
    }

    [Fact]
    public void Running_as_root_needs_an_unprivileged_user_for_postgres()
    {
        var asRoot = s_completeTools with { RunningAsRoot = true };

        Assert.False(asRoot.IsComplete);
        Assert.Contains("'postgres' OS user", asRoot.DescribeMissing());
        Assert.True((asRoot with { RunAsUser = "postgres" }).IsComplete);
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("containers")]
    [InlineData("local")]
    public void Publishing_always_describes_containers_and_asks_the_machine_nothing(string requested)
    {
        var decision = InfrastructureChoice.Decide(requested, publishing: true, NotAsked<string?>, NotAsked<LocalToolset>);

        Assert.Equal(InfrastructureMode.Containers, decision.Mode);
        Assert.Null(decision.ContainerRuntime);
        Assert.Null(decision.LocalTools);
    }

    [Fact]
    public void Where_no_engine_answers_the_local_way_names_the_packages_and_user_it_lacks()
    {
        var nothingAsRoot = s_noTools with { RunningAsRoot = true };

        Assert.Equal(
            ["package postgresql", "package redis-server", "user postgres"],
            InfrastructureChoice.LocalPrerequisitesToInstall("auto", () => null, () => nothingAsRoot));
        Assert.Equal(
            ["package redis-server"],
            InfrastructureChoice.LocalPrerequisitesToInstall("local", NotAsked<string?>, () => s_completeTools with { RedisServer = null }));
        Assert.Empty(InfrastructureChoice.LocalPrerequisitesToInstall("auto", () => null, () => s_completeTools));
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("containers")]
    public void Where_containers_are_the_way_nothing_is_installed(string requested)
    {
        Assert.Empty(InfrastructureChoice.LocalPrerequisitesToInstall(requested, () => "docker", NotAsked<LocalToolset>));
    }

    private static T NotAsked<T>() => throw new InvalidOperationException("This probe must not run for this choice.");
}
