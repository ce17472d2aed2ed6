using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Ava.MessagesApi.Messages;

/// <summary>
/// Declares the <c>Link</c> header of a page in the OpenAPI document: the body is a bare array, so the header is
/// the only place that tells a client how to page on, and generated clients only read headers they are told of.
/// </summary>
internal static class NextPageLinkDocumentation
{
    public static Task DescribeLinkHeader(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (operation.Responses?.TryGetValue("200", out var page) == true && page is OpenApiResponse response)
        {
            response.Headers ??= new Dictionary<string, IOpenApiHeader>();
            response.Headers["Link"] = new OpenApiHeader
            {
                Description = "RFC 8288 link to the next (older) page, absent on the last page: "
                    + "`</messages?limit=50&before=…>; rel=\"next\"`. Relative to the API's host; keeps the request's other parameters.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            };
        }

        return Task.CompletedTask;
    }
}
