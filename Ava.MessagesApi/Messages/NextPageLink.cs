using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.WebUtilities;

namespace Ava.MessagesApi.Messages;

/// <summary>
/// The <c>Link: &lt;…&gt;; rel="next"</c> header (RFC 8288) of a page that has more after it: the request's own URL
/// with the cursor in <c>before</c>, so that a client pages on by following it, as on GitHub, without building URLs.
/// </summary>
public static class NextPageLink
{
    public const string CursorParameter = "before";

    /// <summary>
    /// The header's value. The URL is relative and keeps the request's path base (the prefix a proxy or host mounts
    /// the API under) and every query parameter but the old cursor, in the caller's order: the next page is the same
    /// question, one page further.
    /// </summary>
    public static string Format(PathString pathBase, PathString path, QueryString query, MessageCursor next)
    {
        var url = new StringBuilder(pathBase.ToUriComponent()).Append(path.ToUriComponent());
        var separator = '?';
        foreach (var parameter in new QueryStringEnumerable(query.Value))
        {
            var name = parameter.DecodeName().ToString();
            if (name == CursorParameter)
            {
                continue;
            }

            // Decoded and encoded again, so that nothing the caller sent unescaped can end the URL early (a '>').
            AppendParameter(url, separator, name, parameter.DecodeValue().ToString());
            separator = '&';
        }

        AppendParameter(url, separator, CursorParameter, next.ToString());
        return $"<{url}>; rel=\"next\"";
    }

    private static void AppendParameter(StringBuilder url, char separator, string name, string value) => url
        .Append(separator)
        .Append(UrlEncoder.Default.Encode(name))
        .Append('=')
        .Append(UrlEncoder.Default.Encode(value));
}
