using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Ava.MessagesApi.Media;

/// <summary>
/// Declares what <c>GET /messages/{id}/media</c> answers besides problems: bytes of any type, whole or a range, or
/// nothing when the caller has them already — and the headers a player or a cache goes by, since generated clients
/// only read headers they are told of.
/// </summary>
internal static class MediaDocumentation
{
    public static Task DescribeBytes(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        operation.Parameters ??= [];
        operation.Parameters.Add(Header("Range", "`bytes=first-last` (or `first-`, `-suffix`): only those bytes, answered 206."));
        operation.Parameters.Add(Header("If-None-Match", "The `ETag` of a previous answer: 304 while the bytes are the same."));

        operation.Responses ??= [];
        operation.Responses["200"] = Bytes("The media's bytes, of its MIME type (application/octet-stream when unknown).");
        operation.Responses["206"] = Bytes("The requested range of the bytes; `Content-Range` says which.");
        operation.Responses["304"] = new OpenApiResponse { Description = "The bytes are those of the `ETag` the caller named." };
        return Task.CompletedTask;
    }

    private static OpenApiParameter Header(string name, string description) => new()
    {
        Name = name,
        In = ParameterLocation.Header,
        Description = description,
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };

    private static OpenApiResponse Bytes(string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType>
        {
            ["*/*"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
        },
        Headers = new Dictionary<string, IOpenApiHeader>
        {
            ["ETag"] = StringHeader("The bytes' SHA-256 in lowercase hex, quoted: the `sha256` of the history's `media`."),
            ["Last-Modified"] = StringHeader("When Ava kept the bytes."),
            ["Accept-Ranges"] = StringHeader("`bytes`: ranges may be asked for."),
            ["Content-Range"] = StringHeader("On 206: `bytes first-last/size`."),
            ["Content-Disposition"] = StringHeader("For documents: `attachment`, with the file name its sender gave."),
        },
    };

    private static OpenApiHeader StringHeader(string description) => new()
    {
        Description = description,
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };
}
