using Ava.Linking;

namespace Ava.Tests.Unit;

/// <summary>Phone numbers as people type them and as Meta sends them, read into the one form Ava compares.</summary>
public sealed class PhoneNumbersTests
{
    [Theory]
    [InlineData("+1 (555) 123-4567", "15551234567")]
    [InlineData("+44 20 7946.0958", "442079460958")]
    [InlineData(" +4915112345678 ", "4915112345678")]
    public void A_number_in_international_form_is_read_as_its_digits(string typed, string digits)
    {
        Assert.True(PhoneNumbers.TryParseE164(typed, out var parsed));
        Assert.Equal(digits, parsed);
        Assert.Equal("+" + digits, PhoneNumbers.ToE164(parsed));
    }

    [Theory]
    [InlineData("15551234567")]
    [InlineData("+1 555")]
    [InlineData("+1234567890123456")]
    [InlineData("+0 555 123 4567")]
    [InlineData("+1 555 CALL NOW")]
    [InlineData("")]
    [InlineData(null)]
    public void Anything_else_is_not_a_phone_number(string? typed) =>
        Assert.False(PhoneNumbers.TryParseE164(typed, out _));

    [Fact]
    public void Metas_wa_id_and_a_stored_number_compare_as_the_same_digits() =>
        Assert.Equal(PhoneNumbers.Normalize("+1 555-123-4567"), PhoneNumbers.Normalize("15551234567"));
}
