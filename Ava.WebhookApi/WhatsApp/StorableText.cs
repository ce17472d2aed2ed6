using System.Globalization;
using System.Text;

namespace Ava.WebhookApi.WhatsApp;

/// <summary>
/// Text from Meta as Postgres can store it and the Graph API can be sent it. Postgres text cannot hold NUL, and
/// UTF-8 cannot encode a lone surrogate; a message carrying either would fail every write of its delivery, which
/// was acknowledged to Meta — lost. Such characters are kept in a faithful escaped form instead (<c>\u0000</c>,
/// <c>\ud800</c>, as the JSON spelled them); the raw delivery keeps the original bytes.
/// </summary>
internal static class StorableText
{
    /// <summary>
    /// Rewrites the JSON escapes that would decode to unstorable text (<c>\u0000</c>, unpaired surrogates) into an
    /// escaped backslash, so that they decode to their own spelling. Everything else is left byte for byte.
    /// </summary>
    /// <returns>The same array when there is nothing to rewrite (the usual case).</returns>
    public static byte[] NeutraliseJsonEscapes(byte[] json)
    {
        List<int>? rewrites = null;
        for (var i = 0; i < json.Length - 1; i++)
        {
            if (json[i] != '\\')
            {
                continue;
            }

            if (json[i + 1] != 'u' || !TryReadUnit(json, i + 2, out var unit))
            {
                i++; // an escape such as \" or \\: its second character is not the start of another escape
                continue;
            }

            if (char.IsHighSurrogate(unit) && i + 11 < json.Length && json[i + 6] == '\\' && json[i + 7] == 'u'
                && TryReadUnit(json, i + 8, out var low) && char.IsLowSurrogate(low))
            {
                i += 11;
                continue;
            }

            if (unit == '\0' || char.IsSurrogate(unit))
            {
                (rewrites ??= []).Add(i);
            }

            i += 5;
        }

        if (rewrites is null)
        {
            return json;
        }

        var rewritten = new byte[json.Length + rewrites.Count];
        var from = 0;
        var to = 0;
        foreach (var at in rewrites)
        {
            json.AsSpan(from, at - from).CopyTo(rewritten.AsSpan(to));
            to += at - from;
            rewritten[to++] = (byte)'\\';
            from = at;
        }

        json.AsSpan(from).CopyTo(rewritten.AsSpan(to));
        return rewritten;
    }

    /// <summary>Escapes NUL and unpaired surrogates however they got into a string.</summary>
    public static string Clean(string text)
    {
        if (IsStorable(text))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
            }
            else if (c == '\0' || char.IsSurrogate(c))
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary>Cuts text to at most <paramref name="maxLength"/> UTF-16 units without splitting a character
    /// (a surrogate pair, or an emoji built of several code points).</summary>
    public static string Truncate(string text, int maxLength)
    {
        if (text.Length <= maxLength)
        {
            return text;
        }

        var end = 0;
        while (end < text.Length)
        {
            var next = StringInfo.GetNextTextElementLength(text.AsSpan(end));
            if (end + next > maxLength)
            {
                break;
            }

            end += next;
        }

        return text[..end];
    }

    private static bool IsStorable(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (c == '\0' || char.IsSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryReadUnit(byte[] json, int start, out char unit)
    {
        unit = '\0';
        if (start + 4 > json.Length)
        {
            return false;
        }

        var value = 0;
        for (var i = start; i < start + 4; i++)
        {
            var digit = HexValue(json[i]);
            if (digit < 0)
            {
                return false;
            }

            value = (value << 4) | digit;
        }

        unit = (char)value;
        return true;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
