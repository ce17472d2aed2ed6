using Ava.AppHost.Tunnels;

namespace Ava.Tests.Unit;

public sealed class TunnelCommandLineTests
{
    private static readonly Uri s_webhook = new("http://localhost:5180");

    [Fact]
    public void Cloudflared_opens_a_quick_tunnel_to_the_webhook_without_updating_itself() =>
        Assert.Equal(
            ["tunnel", "--no-autoupdate", "--url", "http://localhost:5180"],
            TunnelCommandLine.Arguments(TunnelTool.Cloudflared, s_webhook));

    [Fact]
    public void Ngrok_forwards_http_to_the_webhook_and_logs_json_lines_on_stdout() =>
        Assert.Equal(
            ["http", "http://localhost:5180", "--log", "stdout", "--log-format", "json"],
            TunnelCommandLine.Arguments(TunnelTool.Ngrok, s_webhook));

    [Fact]
    public void Devtunnel_hosts_the_webhook_port_for_anonymous_clients_such_as_Meta() =>
        Assert.Equal(
            ["host", "-p", "5180", "--allow-anonymous"],
            TunnelCommandLine.Arguments(TunnelTool.Devtunnel, s_webhook));

    [Fact]
    public void Only_the_webhook_origin_is_tunnelled_whatever_path_its_endpoint_carries() =>
        Assert.Contains("http://127.0.0.1:41234", TunnelCommandLine.Arguments(TunnelTool.Cloudflared, new Uri("http://127.0.0.1:41234/some/path")));

    [Theory]
    [InlineData(TunnelTool.Cloudflared, "cloudflared")]
    [InlineData(TunnelTool.Ngrok, "ngrok")]
    [InlineData(TunnelTool.Devtunnel, "devtunnel")]
    public void Each_tool_is_found_under_its_own_executable_name(TunnelTool tool, string executable)
    {
        Assert.Equal(executable, TunnelCommandLine.ExecutableName(tool));
        Assert.Equal(tool, TunnelCommandLine.Parse(executable));
    }
}
