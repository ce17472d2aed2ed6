using Aspire.Hosting.Publishing;

namespace Ava.Hosting.Local;

/// <summary>A directory a service keeps across its restarts, whichever way the stack runs or is deployed.</summary>
public static class StateVolumeExtensions
{
    /// <summary>Where a state volume is mounted in a published service's container.</summary>
    public const string PublishedMountRoot = "/var/lib/ava";

    /// <summary>
    /// Gives the service a directory, named to it in <paramref name="environmentVariable"/>, that outlives the
    /// process: a folder <paramref name="name"/> of the stack's data directory when the AppHost runs (thrown away
    /// with it in tests), and when it publishes the named volume <paramref name="name"/>, mounted at
    /// <see cref="PublishedMountRoot"/>/<paramref name="name"/> and shared by every replica. No path of the
    /// machine that publishes goes into what it publishes.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithStateVolume(
        this IResourceBuilder<ProjectResource> service, string name, string environmentVariable)
    {
        var builder = service.ApplicationBuilder;
        if (!builder.ExecutionContext.IsPublishMode)
        {
            var stack = StackInfrastructure.Of(builder);
            return stack.PreparesData(service).WithEnvironment(environmentVariable, Path.Combine(stack.Data!.Root, name));
        }

        var target = $"{PublishedMountRoot}/{name}";
        return service
            .WithAnnotation(new ContainerMountAnnotation(name, target, ContainerMountType.Volume, isReadOnly: false))
            .WithEnvironment(environmentVariable, target)
            .WithManifestPublishingCallback(context => WriteProjectWithVolumesAsync(context, service.Resource));
    }

    /// <summary>
    /// A project as Aspire's manifest writes it (<c>project.v0</c>), with what that entry has no field for: its
    /// volumes (shaped as a container's) and its replicas. Deployment publishers read both from the model.
    /// </summary>
    private static async Task WriteProjectWithVolumesAsync(ManifestPublishingContext context, ProjectResource project)
    {
        var writer = context.Writer;
        writer.WriteString("type", "project.v0");
        writer.WriteString("path", context.GetManifestRelativePath(project.GetProjectMetadata().ProjectPath));
        await context.WriteCommandLineArgumentsAsync(project);
        await context.WriteEnvironmentVariablesAsync(project);
        context.WriteBindings(project);

        writer.WriteStartArray("volumes");
        foreach (var mount in project.Annotations.OfType<ContainerMountAnnotation>().Where(m => m.Type == ContainerMountType.Volume))
        {
            writer.WriteStartObject();
            writer.WriteString("name", mount.Source);
            writer.WriteString("target", mount.Target);
            writer.WriteBoolean("readOnly", mount.IsReadOnly);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteNumber("replicas", project.GetReplicaCount());
    }
}
