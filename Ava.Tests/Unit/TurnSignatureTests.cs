using System.Text;
using Ava.Responder.Contracts;
using Ava.WebhookApi.WhatsApp.Responding;

namespace Ava.Tests.Unit;

/// <summary>A responder can tell Ava's turns from anybody else's, and Ava refuses settings that would not let it.</summary>
public sealed class TurnSignatureTests
{
    private static readonly byte[] s_body = Encoding.UTF8.GetBytes("""{"turn_id":"wamid.A"}""");

    [Fact]
    public void The_signature_is_the_hex_hmac_sha256_of_the_raw_body_and_checks_only_with_the_same_secret_and_body()
    {
        var signature = TurnSignature.Compute("a secret", s_body);

        Assert.Equal("sha256=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes("a secret"), s_body)), signature);
        Assert.True(TurnSignature.IsValid(signature, "a secret", s_body));
        Assert.True(TurnSignature.IsValid(signature.ToUpperInvariant().Replace("SHA256=", "sha256=", StringComparison.Ordinal), "a secret", s_body));
        Assert.False(TurnSignature.IsValid(signature, "another secret", s_body));
        Assert.False(TurnSignature.IsValid(signature, "a secret", Encoding.UTF8.GetBytes("""{"turn_id":"wamid.B"}""")));
        Assert.False(TurnSignature.IsValid(null, "a secret", s_body));
        Assert.False(TurnSignature.IsValid("sha256=abc", "a secret", s_body));
    }

    [Theory]
    [InlineData("ftp://responder.example/turns", "x", "absolute http or https")]
    [InlineData("https://responder.example/turns", "", "Secret is required")]
    public void Responder_settings_that_do_not_hold_together_are_refused_at_start(string url, string secret, string problem)
    {
        var options = new ResponderOptions { Url = new Uri(url), Secret = secret };

        Assert.Contains(problem, options.Problem(), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_url_ava_echoes_and_needs_no_secret()
    {
        var options = new ResponderOptions();

        Assert.False(options.Enabled);
        Assert.Null(options.Problem());
    }
}
