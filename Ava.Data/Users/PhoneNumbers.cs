namespace Ava.Data.Users;

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
}
