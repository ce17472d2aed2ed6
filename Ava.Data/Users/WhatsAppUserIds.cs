using System.Text.RegularExpressions;

namespace Ava.Data.Users;

/// <summary>
/// Meta's business-scoped user ids (BSUIDs): who a WhatsApp user is to Ava's business, with or without a phone.
/// Meta sends one with every message since April 2026, and it is the only handle on a user who adopted a username
/// and whose phone it withholds. The form Meta documents: a two-letter ISO 3166 country code, a period and up to 128
/// letters and digits (<c>US.13491208655302741918</c>); a parent id, shared across linked business portfolios, has
/// <c>ENT.</c> after the country code. A user who changes their phone number gets a new one.
/// </summary>
public static partial class WhatsAppUserIds
{
    /// <summary>The documented form, also the database's check: never all digits, so never mistaken for a phone.</summary>
    public const string Pattern = @"^[A-Za-z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$";

    public static bool IsValid(string? userId) => userId is not null && Format().IsMatch(userId);

    [GeneratedRegex(Pattern, RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Format();
}
