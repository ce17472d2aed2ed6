using System.ComponentModel.DataAnnotations;
using Ava.MessagesApi;

namespace Ava.Tests.Unit;

/// <summary>Which origins the messages API agrees to start with: exactly what browsers send, nothing vaguer.</summary>
public sealed class BrowserOriginsTests
{
    [Fact]
    public void No_origin_is_allowed_unless_configured()
    {
        Assert.Empty(new BrowserOriginsOptions().AllowedOrigins);
        Assert.Empty(Failures());
    }

    [Theory]
    [InlineData("https://app.example.com")]
    [InlineData("http://localhost:5173")]
    [InlineData("https://App.Example.com")]
    public void Origins_as_browsers_send_them_are_accepted(string origin)
    {
        Assert.Empty(Failures(origin));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("https://app.example.com/")]
    [InlineData("https://app.example.com/chat")]
    [InlineData("https://app.example.com?x=1")]
    [InlineData("app.example.com")]
    [InlineData("ftp://app.example.com")]
    [InlineData("https://user@app.example.com")]
    [InlineData("")]
    public void Anything_a_browser_would_never_send_as_its_origin_stops_the_service_naming_the_value(string origin)
    {
        var failure = Assert.Single(Failures("https://app.example.com", origin));

        Assert.StartsWith($"Cors:AllowedOrigins has \"{origin}\"", failure, StringComparison.Ordinal);
    }

    private static List<string?> Failures(params string[] origins)
    {
        var options = new BrowserOriginsOptions { AllowedOrigins = origins };
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results.Select(result => result.ErrorMessage).ToList();
    }
}
