using System.Globalization;

namespace Ava.AppHost.Tunnels;

/// <summary>How each tunnel tool is called, and what to install when it is missing.</summary>
public static class TunnelCommandLine
{
    public static TunnelTool? Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "cloudflared" => TunnelTool.Cloudflared,
        "ngrok" => TunnelTool.Ngrok,
        "devtunnel" => TunnelTool.Devtunnel,
        _ => null,
    };

    public static string ExecutableName(TunnelTool tool) => tool switch
    {
        TunnelTool.Cloudflared => "cloudflared",
        TunnelTool.Ngrok => "ngrok",
        TunnelTool.Devtunnel => "devtunnel",
        _ => throw new ArgumentOutOfRangeException(nameof(tool), tool, null),
    };

    /// <summary>The arguments that open a public https address forwarding to the webhook.</summary>
    /// <param name="webhook">The webhook's local http endpoint, e.g. <c>http://localhost:5180</c>.</param>
    public static IReadOnlyList<string> Arguments(TunnelTool tool, Uri webhook)
    {
        var origin = webhook.GetLeftPart(UriPartial.Authority);
        return tool switch
        {
            // A quick tunnel: it prints its https://<words>.trycloudflare.com address in a box on stderr. Updates
            // are the package manager's business, not a tunnel's that runs for a development session.
            TunnelTool.Cloudflared => ["tunnel", "--no-autoupdate", "--url", origin],

            // Log lines as JSON on stdout instead of the terminal UI; the "started tunnel" line carries the "url".
            TunnelTool.Ngrok => ["http", origin, "--log", "stdout", "--log-format", "json"],

            // A temporary tunnel, deleted when it stops. Meta signs in to nothing: the port must admit anonymous
            // clients (Ava's own signature check keeps strangers' deliveries out).
            TunnelTool.Devtunnel => ["host", "-p", webhook.Port.ToString(CultureInfo.InvariantCulture), "--allow-anonymous"],

            _ => throw new ArgumentOutOfRangeException(nameof(tool), tool, null),
        };
    }

    /// <summary>What to install, and how, on the usual systems; one line.</summary>
    public static string InstallHint(TunnelTool tool) => tool switch
    {
        TunnelTool.Cloudflared =>
            "install cloudflared (macOS: `brew install cloudflared`; Windows: `winget install --id Cloudflare.cloudflared`; " +
            "Linux: the package from https://pkg.cloudflare.com or a binary from https://github.com/cloudflare/cloudflared/releases)",
        TunnelTool.Ngrok =>
            "install ngrok (https://ngrok.com/download, e.g. `brew install ngrok` or `snap install ngrok`) " +
            "and connect it to your account once with `ngrok config add-authtoken <your authtoken>`",
        TunnelTool.Devtunnel =>
            "install the devtunnel CLI (Windows: `winget install Microsoft.devtunnel`; macOS: `brew install --cask devtunnel`; " +
            "Linux: `curl -sL https://aka.ms/DevTunnelCliInstall | bash`) and sign in once with `devtunnel user login`",
        _ => throw new ArgumentOutOfRangeException(nameof(tool), tool, null),
    };
}
