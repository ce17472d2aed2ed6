using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ava.AppHost.Tunnels;

/// <summary>Finds the public https address in a line a tunnel tool writes to its console.</summary>
public static partial class TunnelOutput
{
    /// <returns>The public address (no path), or null when the line does not announce one.</returns>
    public static Uri? FindPublicUrl(TunnelTool tool, string line) => tool switch
    {
        TunnelTool.Cloudflared => FromCloudflared(line),
        TunnelTool.Ngrok => FromNgrok(line),
        TunnelTool.Devtunnel => FromDevtunnel(line),
        _ => throw new ArgumentOutOfRangeException(nameof(tool), tool, null),
    };

    // "| https://<words>.trycloudflare.com |". Not api.trycloudflare.com, which its errors name
    // ("failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel" …").
    [GeneratedRegex(@"https://(?!api\.)[a-z0-9-]+\.trycloudflare\.com\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CloudflaredUrl();

    // "Connect via browser: https://<id>.<region>.devtunnels.ms:5180, https://<id>-5180.<region>.devtunnels.ms", or
    // in older versions "Hosting port 5180 at https://…:5180/, https://…-5180.….devtunnels.ms/ and inspect it at …".
    [GeneratedRegex(@"https://[a-z0-9.-]+\.devtunnels\.ms(:\d+)?", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DevtunnelUrl();

    private static Uri? FromCloudflared(string line) =>
        CloudflaredUrl().Match(line) is { Success: true } match ? new Uri(match.Value) : null;

    /// <summary><c>{"lvl":"info","msg":"started tunnel",…,"url":"https://….ngrok-free.app"}</c>, perhaps after a timestamp.</summary>
    private static Uri? FromNgrok(string line)
    {
        var start = line.IndexOf('{', StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(line.AsMemory(start));
            var root = json.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("msg", out var message) && message.ValueEquals("started tunnel")
                && root.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String
                && Uri.TryCreate(url.GetString(), UriKind.Absolute, out var publicUrl) && publicUrl.Scheme == Uri.UriSchemeHttps
                    ? publicUrl
                    : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The port-less address where the line offers one (plain 443, which any client reaches), never the
    /// "-inspect" address of the traffic inspector.
    /// </summary>
    private static Uri? FromDevtunnel(string line) =>
        DevtunnelUrl().Matches(line)
            .Where(match => !match.Value.Contains("-inspect.", StringComparison.OrdinalIgnoreCase))
            .OrderBy(match => match.Groups[1].Success)
            .Select(match => new Uri(match.Value))
            .FirstOrDefault();
}
