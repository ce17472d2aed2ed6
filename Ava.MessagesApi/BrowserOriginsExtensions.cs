using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Ava.MessagesApi;

internal static class BrowserOriginsExtensions
{
    /// <summary>
    /// CORS for the origins of <see cref="BrowserOriginsOptions"/>. Callers send a bearer token, never cookies, so
    /// credentials stay off. <c>Link</c> is exposed because it is how a page of history says where the next one is,
    /// and a browser hides every response header that is not exposed. A page playing or saving media may ask for a
    /// <c>Range</c> and send <c>If-None-Match</c>, and read the headers that answer them and name a document.
    /// </summary>
    public static IHostApplicationBuilder AddBrowserOrigins(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<BrowserOriginsOptions>()
            .Bind(builder.Configuration.GetSection(BrowserOriginsOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddCors();
        builder.Services.AddOptions<CorsOptions>()
            .Configure<IOptions<BrowserOriginsOptions>>((cors, origins) => cors.AddDefaultPolicy(policy => policy
                .WithOrigins(origins.Value.AllowedOrigins)
                .WithMethods(HttpMethods.Get, HttpMethods.Post, HttpMethods.Delete)
                .WithHeaders(HeaderNames.Authorization, HeaderNames.ContentType, HeaderNames.Range, HeaderNames.IfNoneMatch)
                .WithExposedHeaders(
                    HeaderNames.Link,
                    HeaderNames.RetryAfter,
                    HeaderNames.ETag,
                    HeaderNames.ContentRange,
                    HeaderNames.ContentDisposition,
                    HeaderNames.AcceptRanges)
                .SetPreflightMaxAge(TimeSpan.FromHours(1))));
        return builder;
    }
}
