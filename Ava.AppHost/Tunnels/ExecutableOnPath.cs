namespace Ava.AppHost.Tunnels;

/// <summary>Finds an executable on the PATH as a shell would, Windows' extensions (PATHEXT) included.</summary>
public static class ExecutableOnPath
{
    private const string WindowsDefaultExtensions = ".COM;.EXE;.BAT;.CMD";

    /// <returns>The executable's full path, or null when no directory on the PATH has it.</returns>
    public static string? Find(string name) =>
        Find(name, Environment.GetEnvironmentVariable("PATH"),
            OperatingSystem.IsWindows() ? Environment.GetEnvironmentVariable("PATHEXT") ?? WindowsDefaultExtensions : null);

    /// <param name="path">The PATH value: directories separated by <see cref="Path.PathSeparator"/>.</param>
    /// <param name="windowsExtensions">On Windows, PATHEXT; null elsewhere, where the file must be executable.</param>
    public static string? Find(string name, string? path, string? windowsExtensions)
    {
        string[] fileNames = windowsExtensions is null
            ? [name]
            : [.. windowsExtensions.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(extension => name + extension.ToLowerInvariant())];

        return (path ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .SelectMany(directory => fileNames.Select(fileName => Path.Combine(directory, fileName)))
            .FirstOrDefault(candidate => File.Exists(candidate) && (windowsExtensions is not null || IsExecutable(candidate)));
    }

    private static bool IsExecutable(string file) =>
        OperatingSystem.IsWindows()
        || (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}
