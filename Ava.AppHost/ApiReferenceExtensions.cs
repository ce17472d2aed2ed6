namespace Ava.AppHost;

public static class ApiReferenceExtensions
{
    /// <summary>Links the service's Scalar API reference (served in Development) from the dashboard.</summary>
    public static IResourceBuilder<ProjectResource> WithApiReference(this IResourceBuilder<ProjectResource> api) =>
        api.WithUrlForEndpoint("http", url => url.DisplayText = "HTTP")
            .WithUrl($"{api.GetEndpoint("http")}/scalar", "API reference");
}
