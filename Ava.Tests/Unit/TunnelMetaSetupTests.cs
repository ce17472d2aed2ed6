using Ava.AppHost.Tunnels;

namespace Ava.Tests.Unit;

public sealed class TunnelMetaSetupTests
{
    private static readonly Uri s_callback = MetaSetup.CallbackUrl(new Uri("https://oklahoma-solo-younger-truck.trycloudflare.com"));

    [Theory]
    [InlineData("https://oklahoma-solo-younger-truck.trycloudflare.com", "https://oklahoma-solo-younger-truck.trycloudflare.com/webhook")]
    [InlineData("https://k3mn8tq2.euw.devtunnels.ms:5180", "https://k3mn8tq2.euw.devtunnels.ms:5180/webhook")]
    [InlineData("https://ab12-203-0-113-7.ngrok-free.app/", "https://ab12-203-0-113-7.ngrok-free.app/webhook")]
    public void The_callback_url_is_the_webhook_route_on_the_public_address(string publicUrl, string callbackUrl) =>
        Assert.Equal(callbackUrl, MetaSetup.CallbackUrl(new Uri(publicUrl)).ToString());

    [Fact]
    public void The_setup_names_the_callback_url_the_verify_token_the_messages_field_and_the_waba_subscription()
    {
        var setup = MetaSetup.Describe(s_callback, "my-verify-token", simulatorAnswers: false);

        Assert.Contains("`https://oklahoma-solo-younger-truck.trycloudflare.com/webhook`", setup);
        Assert.Contains("`my-verify-token`", setup);
        Assert.Contains("**messages**", setup);
        Assert.Contains("/<WABA id>/subscribed_apps", setup);
        Assert.Contains("docs/meta-setup.md", setup);
        Assert.DoesNotContain("simulator", setup);
    }

    [Fact]
    public void With_the_simulator_answering_the_setup_warns_that_Metas_deliveries_will_be_refused() =>
        Assert.Contains("refused (401)", MetaSetup.Describe(s_callback, "run-token", simulatorAnswers: true));

    [Fact]
    public void Without_a_verify_token_the_setup_names_the_parameter_to_set() =>
        Assert.Contains("whatsapp-verify-token", MetaSetup.Describe(s_callback, verifyToken: null, simulatorAnswers: false));
}
