using Ava.AppHost.Tunnels;

namespace Ava.Tests.Unit;

public sealed class TunnelChoiceTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("none")]
    [InlineData(" None ")]
    public void No_tunnel_is_the_default_and_never_looks_for_a_tool(string? setting) =>
        Assert.IsType<TunnelDecision.Off>(TunnelChoice.Decide(setting, NeverAsked));

    [Theory]
    [InlineData("cloudflared", TunnelTool.Cloudflared, "cloudflared")]
    [InlineData("ngrok", TunnelTool.Ngrok, "ngrok")]
    [InlineData(" DevTunnel ", TunnelTool.Devtunnel, "devtunnel")]
    public void A_tunnel_whose_tool_is_installed_runs_from_where_it_was_found(string setting, TunnelTool tool, string executable)
    {
        var run = Assert.IsType<TunnelDecision.Run>(TunnelChoice.Decide(setting, name => name == executable ? $"/opt/bin/{name}" : null));

        Assert.Equal(tool, run.Tool);
        Assert.Equal($"/opt/bin/{executable}", run.Executable);
    }

    [Theory]
    [InlineData("cloudflared", "brew install cloudflared")]
    [InlineData("ngrok", "ngrok config add-authtoken")]
    [InlineData("devtunnel", "devtunnel user login")]
    public void A_tunnel_whose_tool_is_missing_says_in_one_line_what_to_install_and_how(string setting, string howTo)
    {
        var unavailable = Assert.IsType<TunnelDecision.Unavailable>(TunnelChoice.Decide(setting, _ => null));

        Assert.Equal($"{setting} not installed", unavailable.Summary);
        Assert.Contains($"{setting} is not on the PATH", unavailable.Reason);
        Assert.Contains(howTo, unavailable.Reason);
        Assert.DoesNotContain('\n', unavailable.Reason);
    }

    [Fact]
    public void An_unknown_tunnel_is_named_with_the_ones_Ava_runs() =>
        Assert.Contains(
            "use none, cloudflared, ngrok or devtunnel",
            Assert.IsType<TunnelDecision.Unavailable>(TunnelChoice.Decide("localtunnel", NeverAsked)).Reason);

    private static string? NeverAsked(string executable) =>
        throw new InvalidOperationException($"{executable} should not have been looked for.");
}
