using System.ComponentModel.DataAnnotations;

namespace Ava.MessagesApi;

/// <summary>
/// Which web front ends may call the API from a browser (CORS). None by default: a page of another origin gets no
/// answer it can read until its origin is listed here.
/// </summary>
public sealed class BrowserOriginsOptions : IValidatableObject
{
    public const string SectionName = "Cors";

    /// <summary>Origins as a browser sends them: scheme, host and port only, e.g. <c>https://app.example.com</c>.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var origin in AllowedOrigins)
        {
            if (!IsOrigin(origin))
            {
                // A browser compares the origin exactly: a path, a trailing slash or a wildcard would silently match nothing
                // (or, for "*", every page on the web).
                yield return new ValidationResult(
                    $"{SectionName}:{nameof(AllowedOrigins)} has \"{origin}\", which is not an origin: write scheme://host[:port], "
                    + "http or https, without path, query or trailing slash.");
            }
        }
    }

    private static bool IsOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && uri.Scheme is "http" or "https"
        && string.IsNullOrEmpty(uri.UserInfo)
        && string.Equals(origin, uri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase);
}
