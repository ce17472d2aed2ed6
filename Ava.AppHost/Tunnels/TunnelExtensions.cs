using Ava.AppHost.WhatsApp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ava.AppHost.Tunnels;

/// <summary>
/// <c>Ava:Tunnel</c>: in run mode, cloudflared, ngrok or devtunnel in front of the webhook's http endpoint, so that
/// Meta reaches a webhook on a developer's machine. The dashboard shows the public callback URL on the tunnel and,
/// with "Show Meta setup", what to enter at Meta. A deployed webhook has an address of its own: never in publish mode.
/// </summary>
public static partial class TunnelExtensions
{
    public const string ResourceName = "tunnel";
    public const string MetaSetupCommandName = "meta-setup";
    public const string CallbackUrlProperty = "Meta callback URL";
    public const string VerifyTokenProperty = "Meta verify token";

    private const string IconName = "Globe";

    /// <param name="webhook">The webhook, with an endpoint named <c>http</c>.</param>
    /// <param name="findExecutable">Looks a tool up by name (default: on the PATH).</param>
    public static IResourceBuilder<T> WithTunnel<T>(this IResourceBuilder<T> webhook, Func<string, string?>? findExecutable = null)
        where T : class, IResourceWithEndpoints, IResourceWithWaitSupport
    {
        var builder = webhook.ApplicationBuilder;
        if (builder.ExecutionContext.IsPublishMode)
        {
            return webhook;
        }

        switch (TunnelChoice.Decide(builder.Configuration[TunnelChoice.ConfigurationKey], findExecutable ?? ExecutableOnPath.Find))
        {
            case TunnelDecision.Run run:
                builder.AddTunnel(run, webhook);
                break;
            case TunnelDecision.Unavailable unavailable:
                builder.AddUnavailableTunnel(unavailable, webhook.Resource);
                break;
        }

        return webhook;
    }

    private static void AddTunnel<T>(this IDistributedApplicationBuilder builder, TunnelDecision.Run run, IResourceBuilder<T> webhook)
        where T : class, IResourceWithEndpoints, IResourceWithWaitSupport
    {
        var tunnel = new TunnelResource(ResourceName, run.Tool, run.Executable, builder.AppHostDirectory);
        var webhookUrl = webhook.GetEndpoint("http").Property(EndpointProperty.Url);

        builder.AddResource(tunnel)
            .WithArgs(async context =>
            {
                var target = await webhookUrl.GetValueAsync(context.CancellationToken)
                    ?? throw new InvalidOperationException($"{webhook.Resource.Name} has no http endpoint to tunnel to.");
                foreach (var argument in TunnelCommandLine.Arguments(run.Tool, new Uri(target)))
                {
                    context.Args.Add(argument);
                }
            })
            // Meta verifies the callback URL when it is entered, well after the webhook answers; not waiting for it to
            // be healthy, because a refused access token (degraded) must not keep the tunnel closed: the handshake needs none.
            .WaitForStart(webhook)
            .WithParentRelationship(webhook.Resource)
            .WithIconName(IconName)
            .WithCommand(MetaSetupCommandName, "Show Meta setup", context => ShowMetaSetupAsync(tunnel, context), new CommandOptions
            {
                Description = "The callback URL and verify token to enter in Meta's App Dashboard, and the steps around them.",
                IconName = "Info",
                IsHighlighted = true,
                UpdateState = _ => tunnel.CallbackUrl is null ? ResourceCommandState.Disabled : ResourceCommandState.Enabled,
            })
            .OnInitializeResource((resource, @event, startCancellation) =>
            {
                // Follows the tunnel for as long as the AppHost runs, not only while resources start up.
                var stopping = @event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
                _ = FollowPublicUrlAsync(resource, @event.Services, stopping);
                return Task.CompletedTask;
            });
    }

    private static void AddUnavailableTunnel(this IDistributedApplicationBuilder builder, TunnelDecision.Unavailable unavailable, IResource webhook) =>
        builder.AddResource(new UnavailableTunnelResource(ResourceName, unavailable.Reason))
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "Tunnel",
                State = new ResourceStateSnapshot(unavailable.Summary, KnownResourceStateStyles.Warn),
                Properties = [new("Reason", unavailable.Reason)],
            })
            .WithParentRelationship(webhook)
            .WithIconName(IconName)
            .OnInitializeResource((resource, @event, _) =>
            {
                // The one line, where a developer looks first: the AppHost's console and the resource's log.
                Log.TunnelUnavailable(AppHostLogger(@event.Services), resource.Reason);
                Log.TunnelUnavailable(@event.Logger, resource.Reason);
                return Task.CompletedTask;
            });

    /// <summary>
    /// Reads the tool's console as it runs and shows each public address it announces (a restarted tunnel gets a
    /// new one) as the tunnel's URL and properties.
    /// </summary>
    private static async Task FollowPublicUrlAsync(TunnelResource tunnel, IServiceProvider services, CancellationToken stopping)
    {
        var appHostLogger = AppHostLogger(services);
        try
        {
            var logs = services.GetRequiredService<ResourceLoggerService>();
            ResourceUrlAnnotation? shown = null;
            await foreach (var lines in logs.WatchAsync(tunnel).WithCancellation(stopping))
            {
                foreach (var line in lines)
                {
                    if (TunnelOutput.FindPublicUrl(tunnel.Tool, line.Content) is not { } publicUrl)
                    {
                        continue;
                    }

                    var callbackUrl = MetaSetup.CallbackUrl(publicUrl);
                    if (callbackUrl == tunnel.CallbackUrl)
                    {
                        continue;
                    }

                    tunnel.CallbackUrl = callbackUrl;
                    shown = await ShowCallbackUrlAsync(tunnel, callbackUrl, shown, services, stopping);
                    Log.CallbackUrlAnnounced(appHostLogger, TunnelCommandLine.ExecutableName(tunnel.Tool), callbackUrl);
                    Log.CallbackUrlAnnounced(logs.GetLogger(tunnel), TunnelCommandLine.ExecutableName(tunnel.Tool), callbackUrl);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            Log.FollowingFailed(appHostLogger, exception);
        }
    }

    private static async Task<ResourceUrlAnnotation> ShowCallbackUrlAsync(
        TunnelResource tunnel, Uri callbackUrl, ResourceUrlAnnotation? previous, IServiceProvider services, CancellationToken cancellationToken)
    {
        // The orchestrator rebuilds an executable's URLs from its annotations at every state change: the annotation
        // keeps the URL there, the update shows it now.
        var url = new ResourceUrlAnnotation { Url = callbackUrl.ToString(), DisplayText = CallbackUrlProperty };
        if (previous is not null)
        {
            tunnel.Annotations.Remove(previous);
        }

        tunnel.Annotations.Add(url);

        var verifyToken = await FindVerifyTokenAsync(services, cancellationToken);
        await services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(tunnel, snapshot => snapshot with
        {
            Urls =
            [
                .. snapshot.Urls.Where(shown => shown.Url != url.Url && shown.Url != previous?.Url),
                new UrlSnapshot(Name: null, Url: url.Url, IsInternal: false) { DisplayProperties = new(CallbackUrlProperty, 0) },
            ],
            Properties =
            [
                .. snapshot.Properties.Where(property => property.Name is not (CallbackUrlProperty or VerifyTokenProperty)),
                new(CallbackUrlProperty, url.Url),
                .. verifyToken is null ? Array.Empty<ResourcePropertySnapshot>() : [new(VerifyTokenProperty, verifyToken) { IsSensitive = true }],
            ],
        });
        return url;
    }

    private static async Task<ExecuteCommandResult> ShowMetaSetupAsync(TunnelResource tunnel, ExecuteCommandContext context)
    {
        if (tunnel.CallbackUrl is not { } callbackUrl)
        {
            return CommandResults.Failure("The tunnel has not announced its public address yet: see its console log.");
        }

        var simulatorAnswers = context.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .Any(resource => resource.Name == WhatsAppCloudApiExtensions.SimulatorName);
        var setup = MetaSetup.Describe(callbackUrl, await FindVerifyTokenAsync(context.Services, context.CancellationToken), simulatorAnswers);
        return CommandResults.Success($"Callback URL {callbackUrl}", setup, CommandResultFormat.Markdown, displayImmediately: true);
    }

    /// <summary>The value the webhook verifies Meta's handshake with (configured, or made for a simulator run).</summary>
    private static async Task<string?> FindVerifyTokenAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ParameterResource>()
            .FirstOrDefault(parameter => parameter.Name == WhatsAppCloudApiExtensions.VerifyTokenParameter) is { } verifyToken
                ? await verifyToken.GetValueAsync(cancellationToken)
                : null;

    private static ILogger AppHostLogger(IServiceProvider services) =>
        services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TunnelExtensions));

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "{Reason}")]
        public static partial void TunnelUnavailable(ILogger logger, string reason);

        [LoggerMessage(Level = LogLevel.Information,
            Message = "Meta can reach the webhook through {Tool} at {CallbackUrl}; \"Show Meta setup\" on the tunnel resource has the verify token and the steps.")]
        public static partial void CallbackUrlAnnounced(ILogger logger, string tool, Uri callbackUrl);

        [LoggerMessage(Level = LogLevel.Error, Message = "Following the tunnel's console for its public address failed")]
        public static partial void FollowingFailed(ILogger logger, Exception exception);
    }
}
