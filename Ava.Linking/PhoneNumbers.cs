namespace Ava.Linking;

/// <summary>
/// Phone numbers as Ava stores and compares them: the digits of the international form, without <c>+</c>, as Meta
/// sends them in <c>from</c> and <c>wa_id</c>.
/// </summary>
public static class PhoneNumbers
{
    /// <summary>Keeps the digits of a phone number (<c>+1 (555) 123-4567</c> → <c>15551234567</c>).</summary>
    public static string Normalize(string phone)
    {
        ArgumentNullException.ThrowIfNull(phone);
        return string.Create(phone.Count(char.IsAsciiDigit), phone, static (digits, source) =>
        {
            var i = 0;
            foreach (var c in source)
            {
                if (char.IsAsciiDigit(c))
                {
                    digits[i++] = c;
                }
            }
        });
    }

    /// <summary>
    /// Reads a phone number a person typed in international (E.164) form: <c>+</c>, country code and number,
    /// 8 to 15 digits, spaces, dashes, dots and parentheses allowed between them.
    /// </summary>
    /// <param name="digits">The normalised number (digits only) when valid.</param>
    public static bool TryParseE164(string? input, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? digits)
    {
        digits = null;
        var text = input?.Trim();
        if (text is not ['+', .. var rest] || rest.Any(c => !char.IsAsciiDigit(c) && c is not (' ' or '-' or '.' or '(' or ')')))
        {
            return false;
        }

        var candidate = Normalize(rest);
        if (candidate.Length is < 8 or > 15 || candidate[0] == '0')
        {
            return false;
        }

        digits = candidate;
        return true;
    }

    /// <summary>The E.164 form of a normalised number, for showing it to people.</summary>
    public static string ToE164(string digits) => "+" + digits;
}
