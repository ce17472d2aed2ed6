using System.ComponentModel;
using System.Diagnostics;

namespace Ava.Hosting.Local;

/// <summary>Finds a container engine that really answers, not just a client on the PATH.</summary>
internal static class ContainerEngineProbe
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    /// <summary>The setting (environment variable or AppHost configuration) naming the engine Aspire should use.</summary>
    public const string RuntimeKey = "ASPIRE_CONTAINER_RUNTIME";

    /// <param name="preferred">The engine named by <see cref="RuntimeKey"/>, if any: then that one alone is asked.</param>
    /// <returns><c>docker</c> or <c>podman</c> (or the one preferred), or null when no engine answers.</returns>
    public static string? FindAnsweringRuntime(string? preferred)
    {
        string[] candidates = string.IsNullOrWhiteSpace(preferred) ? ["docker", "podman"] : [preferred];
        return candidates.FirstOrDefault(Answers);
    }

    private static bool Answers(string runtime)
    {
        var startInfo = new ProcessStartInfo(runtime, ["info", "--format", "{{.Host.Os}}{{.ServerVersion}}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        try
        {
            using var process = Process.Start(startInfo);
            if (process is null)
            {
                return false;
            }

            if (!process.WaitForExit(s_timeout))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            return process.ExitCode == 0;
        }
        catch (Win32Exception)
        {
            // Not installed.
            return false;
        }
    }
}
