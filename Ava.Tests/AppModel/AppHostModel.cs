using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ava.Tests.AppModel;

/// <summary>
/// Ava's AppHost as its Program.cs describes it — resources, annotations, references, waits — built and never
/// started, so that any way it can run (containers included) is inspected on any machine.
/// </summary>
internal sealed class AppHostModel : IAsyncDisposable
{
    private readonly DistributedApplication _app;

    private AppHostModel(DistributedApplication app) => _app = app;

    public IReadOnlyList<IResource> Resources => _app.Services.GetRequiredService<DistributedApplicationModel>().Resources.ToList();

    /// <param name="args">The AppHost's arguments: none is F5 on a developer's machine.</param>
    public static async Task<AppHostModel> BuildAsync(params string[] args)
    {
        // Aspire looks for a newer version of itself in the background: not for a model nobody runs.
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Ava_AppHost>(
            ["--ASPIRE_VERSION_CHECK_DISABLED=true", .. args], TestContext.Current.CancellationToken);

        // The AppHost's Program goes on to Run() and waits there to be started; disposing waits for it to give up.
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(1));
        return new AppHostModel(await builder.BuildAsync(TestContext.Current.CancellationToken));
    }

    public T Single<T>(string name) where T : IResource =>
        Assert.IsType<T>(Assert.Single(Resources, resource => resource.Name == name), exactMatch: false);

    /// <summary>
    /// Gives every endpoint the address the orchestrator would: localhost and a port of its own, as services on this
    /// machine reach a container's published port or a local server.
    /// </summary>
    public void AllocateEndpoints()
    {
        var port = 20_000;
        foreach (var endpoint in Resources.SelectMany(resource => resource.Annotations.OfType<EndpointAnnotation>()))
        {
            // A service's own port is the orchestrator's to give it too (HTTP_PORTS).
            endpoint.AllocatedEndpoint = new AllocatedEndpoint(endpoint, "localhost", port, targetPortExpression: $"{port}");
            port++;
        }
    }

    public int PortOf(string resourceName, string endpointName = "tcp") =>
        Single<IResourceWithEndpoints>(resourceName).Annotations.OfType<EndpointAnnotation>()
            .Single(endpoint => endpoint.Name == endpointName).AllocatedEndpoint!.Port;

    /// <summary>The environment the orchestrator would start the resource with (endpoints allocated first).</summary>
    public async Task<IReadOnlyDictionary<string, string>> EnvironmentOfAsync(string name)
    {
        var configuration = await ExecutionConfigurationBuilder.Create(Single<IResource>(name))
            .WithEnvironmentVariablesConfig()
            .BuildAsync(_app.Services.GetRequiredService<DistributedApplicationExecutionContext>(), NullLogger.Instance, TestContext.Current.CancellationToken);
        Assert.Null(configuration.Exception);
        return configuration.EnvironmentVariables.ToDictionary();
    }

    /// <summary>The command line the orchestrator would start the resource with.</summary>
    public async Task<IReadOnlyList<string>> ArgumentsOfAsync(string name)
    {
        var configuration = await ExecutionConfigurationBuilder.Create(Single<IResource>(name))
            .WithArgumentsConfig()
            .BuildAsync(_app.Services.GetRequiredService<DistributedApplicationExecutionContext>(), NullLogger.Instance, TestContext.Current.CancellationToken);
        Assert.Null(configuration.Exception);
        return [.. configuration.Arguments.Select(argument => argument.Value)];
    }

    public async Task<string> ParameterAsync(string name) =>
        await Single<ParameterResource>(name).GetValueAsync(TestContext.Current.CancellationToken)
            ?? throw new InvalidOperationException($"Parameter {name} has no value.");

    /// <summary>What the resource waits for before it starts, and how.</summary>
    public IEnumerable<(string Resource, WaitType How)> WaitsOf(string name) =>
        Single<IResource>(name).Annotations.OfType<WaitAnnotation>().Select(wait => (wait.Resource.Name, wait.WaitType));

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
