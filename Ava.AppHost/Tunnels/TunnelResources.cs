namespace Ava.AppHost.Tunnels;

/// <summary>
/// The tunnel tool running in front of the webhook. Its callback URL is known once the tool has announced its
/// public address on its console.
/// </summary>
public sealed class TunnelResource(string name, TunnelTool tool, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory)
{
    private Uri? _callbackUrl;

    public TunnelTool Tool { get; } = tool;

    /// <summary>The public <c>https://…/webhook</c> to give Meta; null until the tool has announced it.</summary>
    public Uri? CallbackUrl
    {
        get => Volatile.Read(ref _callbackUrl);
        internal set => Volatile.Write(ref _callbackUrl, value);
    }
}

/// <summary>Holds the tunnel's place in the dashboard when it cannot run, saying why.</summary>
public sealed class UnavailableTunnelResource(string name, string reason) : Resource(name)
{
    /// <summary>One line naming what to install or change, and how.</summary>
    public string Reason { get; } = reason;
}
