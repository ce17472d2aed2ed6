using Ava.AppHost.Tunnels;
using Ava.AppHost.WhatsApp;
using Microsoft.Extensions.DependencyInjection;

namespace Ava.Tests.Integration;

/// <summary>
/// <c>Ava:Tunnel</c> as a developer meets it in the dashboard. No tunnel tool is installed where the tests run: a
/// stand-in on the PATH prints what cloudflared prints. The stack's own services are not needed for that, so these
/// tests run small apps of their own (a placeholder webhook) beside the real AppHost's model, and start in seconds.
/// </summary>
public sealed class TunnelResourceTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(1);

    private readonly DirectoryInfo _standInDirectory = Directory.CreateTempSubdirectory("ava-tunnel-");

    [Fact]
    public async Task The_tunnel_shows_the_callback_URL_its_tool_announces_and_the_Meta_setup_with_the_verify_token()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "The stand-in tunnel is a shell script.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(s_timeout);

        var builder = SmallApp();
        builder.Configuration[TunnelChoice.ConfigurationKey] = "cloudflared";
        builder.AddParameter(WhatsAppCloudApiExtensions.VerifyTokenParameter, "verify-me", secret: true);
        var webhook = builder.AddExecutable("webhookapi", "sleep", _standInDirectory.FullName, "120").WithHttpEndpoint(name: "http");
        WithStandInOnPath(() => webhook.WithTunnel());

        await using var app = builder.Build();
        await app.StartAsync(timeout.Token);

        var shown = await WaitForCallbackUrlAsync(app, "https://ava-stand-in-1.trycloudflare.com/webhook", timeout.Token);
        Assert.Contains(shown.Snapshot.Properties, p => p.Name == TunnelExtensions.CallbackUrlProperty
            && Equals(p.Value, "https://ava-stand-in-1.trycloudflare.com/webhook"));
        Assert.Contains(shown.Snapshot.Properties, p => p.Name == TunnelExtensions.VerifyTokenProperty && p.IsSensitive);

        // The tool was pointed at the webhook's own endpoint.
        var webhookUrl = webhook.GetEndpoint("http").Url;
        Assert.Equal(["tunnel", "--no-autoupdate", "--url", webhookUrl], await File.ReadAllLinesAsync(StandInFile("args"), timeout.Token));

        var setup = await app.Services.GetRequiredService<ResourceCommandService>()
            .ExecuteCommandAsync(Tunnel(app), TunnelExtensions.MetaSetupCommandName, timeout.Token);
        Assert.True(setup.Success, setup.Message);
        Assert.Contains("`https://ava-stand-in-1.trycloudflare.com/webhook`", setup.Data?.Value);
        Assert.Contains("`verify-me`", setup.Data?.Value);

        // Started again, the tunnel has a new address, and only that one is shown.
        var restart = await app.Services.GetRequiredService<ResourceCommandService>()
            .ExecuteCommandAsync(Tunnel(app), KnownResourceCommands.RestartCommand, timeout.Token);
        Assert.True(restart.Success, restart.Message);
        var moved = await WaitForCallbackUrlAsync(app, "https://ava-stand-in-2.trycloudflare.com/webhook", timeout.Token);
        Assert.DoesNotContain(moved.Snapshot.Urls, u => u.Url.Contains("ava-stand-in-1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_tunnel_that_is_not_installed_leaves_the_app_running_and_says_what_to_install()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(s_timeout);

        var builder = SmallApp();
        builder.Configuration[TunnelChoice.ConfigurationKey] = "ngrok";
        builder.AddExecutable("webhookapi", "sleep", _standInDirectory.FullName, "120").WithHttpEndpoint(name: "http")
            .WithTunnel(findExecutable: _ => null);

        await using var app = builder.Build();
        await app.StartAsync(timeout.Token);

        await app.ResourceNotifications.WaitForResourceAsync("webhookapi", KnownResourceStates.Running, timeout.Token);
        var tunnel = await app.ResourceNotifications.WaitForResourceAsync(
            TunnelExtensions.ResourceName, e => e.Snapshot.State?.Text == "ngrok not installed", timeout.Token);
        Assert.Equal(KnownResourceStateStyles.Warn, tunnel.Snapshot.State?.Style);

        await foreach (var lines in app.Services.GetRequiredService<ResourceLoggerService>().WatchAsync(TunnelExtensions.ResourceName).WithCancellation(timeout.Token))
        {
            if (lines.FirstOrDefault(l => l.Content.Contains("ngrok is not on the PATH", StringComparison.Ordinal)) is { } line)
            {
                Assert.Contains("ngrok config add-authtoken", line.Content);
                break;
            }
        }
    }

    [Fact]
    public async Task The_AppHost_runs_the_chosen_tunnel_in_front_of_its_webhook()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "The stand-in tunnel is a shell script.");
        var standIn = WriteStandIn();

        var builder = await WithStandInOnPathAsync(() => DistributedApplicationTestingBuilder.CreateAsync<Projects.Ava_AppHost>(
            ["--Ava:ThrowawayData=true", $"--{TunnelChoice.ConfigurationKey}=cloudflared"], TestContext.Current.CancellationToken));
        await using (builder)
        {
            var tunnel = Assert.Single(builder.Resources.OfType<TunnelResource>());

            Assert.Equal(TunnelExtensions.ResourceName, tunnel.Name);
            Assert.Equal(standIn, tunnel.Command);
            Assert.Contains(tunnel.Annotations.OfType<WaitAnnotation>(), wait => wait.Resource.Name == "webhookapi");
            Assert.Contains(tunnel.Annotations.OfType<ResourceCommandAnnotation>(), c => c.Name == TunnelExtensions.MetaSetupCommandName);
        }
    }

    [Fact]
    public void Publishing_never_adds_a_tunnel()
    {
        var builder = DistributedApplication.CreateBuilder(["--operation", "publish", $"--{TunnelChoice.ConfigurationKey}=cloudflared"]);
        Assert.True(builder.ExecutionContext.IsPublishMode);

        builder.AddExecutable("webhookapi", "sleep", _standInDirectory.FullName, "120").WithHttpEndpoint(name: "http")
            .WithTunnel(findExecutable: name => $"/usr/bin/{name}");

        Assert.DoesNotContain(builder.Resources, r => r.Name == TunnelExtensions.ResourceName);
    }

    public void Dispose() => _standInDirectory.Delete(recursive: true);

    /// <summary>
    /// An app of the test's own, without a dashboard, run by the orchestrator the AppHost brings (the AppHost's
    /// assembly says where that is).
    /// </summary>
    private static IDistributedApplicationBuilder SmallApp() =>
        DistributedApplication.CreateBuilder(new DistributedApplicationOptions
        {
            Args = [],
            AssemblyName = typeof(TunnelExtensions).Assembly.GetName().Name,
            DisableDashboard = true,
        });

    private static IResource Tunnel(DistributedApplication app) =>
        app.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == TunnelExtensions.ResourceName);

    /// <summary>Waits until the running tunnel shows <paramref name="callbackUrl"/> as its URL (and keeps it once running).</summary>
    private static Task<ResourceEvent> WaitForCallbackUrlAsync(DistributedApplication app, string callbackUrl, CancellationToken cancellationToken) =>
        app.ResourceNotifications.WaitForResourceAsync(
            TunnelExtensions.ResourceName,
            e => e.Snapshot.State?.Text == KnownResourceStates.Running
                && e.Snapshot.Urls.Any(u => u.Url == callbackUrl && !u.IsInactive && u.DisplayProperties.DisplayName == TunnelExtensions.CallbackUrlProperty),
            cancellationToken);

    /// <summary>
    /// A <c>cloudflared</c> that writes what cloudflared writes when it opens a quick tunnel (a new address at each
    /// start), records its arguments, and then runs until stopped (or for two minutes, should it ever be orphaned;
    /// the placeholder webhooks likewise).
    /// </summary>
    private string WriteStandIn()
    {
        var script = StandInFile("cloudflared");
        File.WriteAllText(script, $"""
            #!/bin/sh
            printf '%s\n' "$@" > '{StandInFile("args")}'
            starts=$(( $(cat '{StandInFile("starts")}' 2>/dev/null || echo 0) + 1 ))
            echo "$starts" > '{StandInFile("starts")}'
            echo "INF Requesting new quick Tunnel on trycloudflare.com..." >&2
            echo "INF |  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |" >&2
            echo "INF |  https://ava-stand-in-$starts.trycloudflare.com                                          |" >&2
            exec sleep 120

            """);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return script;
    }

    /// <summary>
    /// Runs <paramref name="build"/> with the stand-in first on the PATH. Only prepended: stacks other tests start
    /// meanwhile still find everything they need.
    /// </summary>
    private void WithStandInOnPath(Action build) =>
        WithStandInOnPathAsync(() =>
        {
            build();
            return Task.FromResult(true);
        }).GetAwaiter().GetResult();

    private async Task<T> WithStandInOnPathAsync<T>(Func<Task<T>> build)
    {
        if (!File.Exists(StandInFile("cloudflared")))
        {
            WriteStandIn();
        }

        var path = Environment.GetEnvironmentVariable("PATH");
        Environment.SetEnvironmentVariable("PATH", _standInDirectory.FullName + Path.PathSeparator + path);
        try
        {
            return await build();
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", path);
        }
    }

    private string StandInFile(string name) => Path.Combine(_standInDirectory.FullName, name);
}
