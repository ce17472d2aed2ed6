using Ava.AppHost.Tunnels;

namespace Ava.Tests.Unit;

public sealed class TunnelOutputTests
{
    [Fact]
    public void Cloudflared_announces_its_quick_tunnel_in_a_box()
    {
        string[] console =
        [
            "2026-11-25T10:00:00Z INF Requesting new quick Tunnel on trycloudflare.com...",
            "2026-11-25T10:00:04Z INF +--------------------------------------------------------------------------------------------+",
            "2026-11-25T10:00:04Z INF |  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |",
            "2026-11-25T10:00:04Z INF |  https://oklahoma-solo-younger-truck.trycloudflare.com                                     |",
            "2026-11-25T10:00:04Z INF +--------------------------------------------------------------------------------------------+",
            "2026-11-25T10:00:04Z INF Thank you for trying Cloudflare Tunnel. … https://developers.cloudflare.com/cloudflare-one/connections/connect-apps",
        ];

        Assert.Equal([new Uri("https://oklahoma-solo-younger-truck.trycloudflare.com")], PublicUrls(TunnelTool.Cloudflared, console));
    }

    [Fact]
    public void Cloudflared_failing_to_reach_its_api_announces_nothing() =>
        Assert.Null(TunnelOutput.FindPublicUrl(TunnelTool.Cloudflared,
            "ERR failed to request quick Tunnel: Post \"https://api.trycloudflare.com/tunnel\": dial tcp: lookup api.trycloudflare.com: no such host"));

    [Fact]
    public void Ngrok_announces_its_url_on_the_started_tunnel_json_line()
    {
        string[] console =
        [
            """{"lvl":"info","msg":"no configuration paths supplied","t":"2026-11-25T10:00:00Z"}""",
            """{"addr":"https://localhost:4040","lvl":"info","msg":"starting web service","obj":"web","t":"2026-11-25T10:00:00Z"}""",
            """{"addr":"http://localhost:5180","lvl":"info","msg":"started tunnel","name":"command_line","obj":"tunnels","t":"2026-11-25T10:00:01Z","url":"https://ab12-203-0-113-7.ngrok-free.app"}""",
        ];

        Assert.Equal([new Uri("https://ab12-203-0-113-7.ngrok-free.app")], PublicUrls(TunnelTool.Ngrok, console));
    }

    [Fact]
    public void Ngrok_lines_behind_a_timestamp_with_structured_addresses_are_read_too() =>
        Assert.Equal(
            new Uri("https://94b1-82-67-199-224.ngrok-free.app"),
            TunnelOutput.FindPublicUrl(TunnelTool.Ngrok,
                """2026-11-25T10:00:01.123Z {"t":"2026-11-25T10:00:01+0000","lvl":"info","msg":"started tunnel","obj":"tunnels","name":"command_line","addr":{"Scheme":"http","Host":"localhost:5180"},"url":"https://94b1-82-67-199-224.ngrok-free.app"}"""));

    [Theory]
    [InlineData("""{"lvl":"eror","msg":"failed to reconnect session","err":"authentication failed: ERR_NGROK_4018","url":"https://ngrok.com/docs/errors/err_ngrok_4018"}""")]
    [InlineData("""{"lvl":"info","msg":"started tunnel","url":"tcp://0.tcp.ngrok.io:12345"}""")]
    [InlineData("t=2026-11-25T10:00:01+0000 lvl=info msg=\"started tunnel\" url=https://x.ngrok-free.app")]
    [InlineData("{not json")]
    public void Ngrok_lines_other_than_an_https_started_tunnel_announce_nothing(string line) =>
        Assert.Null(TunnelOutput.FindPublicUrl(TunnelTool.Ngrok, line));

    [Fact]
    public void Devtunnel_announces_where_to_connect_and_the_port_free_address_is_taken()
    {
        string[] console =
        [
            "Hosting port: 5180",
            "Connect via browser: https://k3mn8tq2.euw.devtunnels.ms:5180, https://k3mn8tq2-5180.euw.devtunnels.ms",
            "Inspect network activity: https://k3mn8tq2-5180-inspect.euw.devtunnels.ms",
            "",
            "Ready to accept connections for tunnel: brave-lake-7x8gj9s.euw",
        ];

        Assert.Equal([new Uri("https://k3mn8tq2-5180.euw.devtunnels.ms")], PublicUrls(TunnelTool.Devtunnel, console));
    }

    [Fact]
    public void Devtunnel_older_hosting_line_is_read_too() =>
        Assert.Equal(
            new Uri("https://k3mn8tq2-5180.usw2.devtunnels.ms"),
            TunnelOutput.FindPublicUrl(TunnelTool.Devtunnel,
                "Hosting port 5180 at https://k3mn8tq2.usw2.devtunnels.ms:5180/, https://k3mn8tq2-5180.usw2.devtunnels.ms/ and inspect it at https://k3mn8tq2-5180-inspect.usw2.devtunnels.ms/"));

    [Fact]
    public void Devtunnel_relay_connections_announce_nothing() =>
        Assert.Null(TunnelOutput.FindPublicUrl(TunnelTool.Devtunnel,
            "Connecting to host tunnel relay wss://usw2-data.rel.tunnels.api.visualstudio.com/api/v1/Host/Connect/k3mn8tq2"));

    private static Uri[] PublicUrls(TunnelTool tool, IEnumerable<string> console) =>
        [.. console.Select(line => TunnelOutput.FindPublicUrl(tool, line)).OfType<Uri>()];
}
