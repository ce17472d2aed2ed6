namespace Ava.AppHost.Tunnels;

/// <summary>The tunnels the AppHost can put in front of the webhook, so that Meta reaches it from the internet.</summary>
public enum TunnelTool
{
    /// <summary>Cloudflare's quick tunnel: no account, a new <c>https://…trycloudflare.com</c> at every start.</summary>
    Cloudflared,

    /// <summary>ngrok: needs an account's authtoken configured once.</summary>
    Ngrok,

    /// <summary>Microsoft dev tunnels: needs <c>devtunnel user login</c> once.</summary>
    Devtunnel,
}

/// <summary>What <c>Ava:Tunnel</c> asks for, and whether this machine can do it.</summary>
public abstract record TunnelDecision
{
    /// <summary>No tunnel (the default): Meta cannot reach this machine, the simulator or a deployment is used.</summary>
    public sealed record Off : TunnelDecision;

    /// <param name="Tool">The tunnel asked for.</param>
    /// <param name="Executable">Full path of its executable, as found on the PATH.</param>
    public sealed record Run(TunnelTool Tool, string Executable) : TunnelDecision;

    /// <summary>A tunnel was asked for but cannot run; the AppHost starts anyway and says why.</summary>
    /// <param name="Summary">A few words for the dashboard's state column, e.g. "cloudflared not installed".</param>
    /// <param name="Reason">One line naming what to install or change, and how.</param>
    public sealed record Unavailable(string Summary, string Reason) : TunnelDecision;
}

/// <summary>Reads <c>Ava:Tunnel</c> = <c>none</c> (default) | <c>cloudflared</c> | <c>ngrok</c> | <c>devtunnel</c>.</summary>
public static class TunnelChoice
{
    public const string ConfigurationKey = "Ava:Tunnel";

    /// <param name="setting">The configured value; empty or missing means none.</param>
    /// <param name="findExecutable">Looks an executable up by name, answering its full path or null.</param>
    public static TunnelDecision Decide(string? setting, Func<string, string?> findExecutable)
    {
        var requested = setting?.Trim().ToLowerInvariant();
        if (requested is null or "" or "none")
        {
            return new TunnelDecision.Off();
        }

        if (TunnelCommandLine.Parse(requested) is not { } tool)
        {
            return new TunnelDecision.Unavailable(
                "Unknown tunnel",
                $"{ConfigurationKey} is '{setting}', which is not a tunnel Ava runs: use none, cloudflared, ngrok or devtunnel.");
        }

        var executable = TunnelCommandLine.ExecutableName(tool);
        return findExecutable(executable) is { } path
            ? new TunnelDecision.Run(tool, path)
            : new TunnelDecision.Unavailable(
                $"{executable} not installed",
                $"{ConfigurationKey} is '{requested}' but {executable} is not on the PATH, so Meta cannot reach the webhook: " +
                $"{TunnelCommandLine.InstallHint(tool)}; then restart the AppHost.");
    }
}
