using System.ComponentModel;
using System.Diagnostics;

namespace Ava.Hosting.Local;

/// <summary>The container engine's command line: which engine really answers (not just a client on the PATH), and what else the AppHost asks of it.</summary>
internal static class ContainerEngine
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    /// <summary>The setting (environment variable or AppHost configuration) naming the engine Aspire should use.</summary>
    public const string RuntimeKey = "ASPIRE_CONTAINER_RUNTIME";

    /// <param name="preferred">The engine named by <see cref="RuntimeKey"/>, if any: then that one alone is asked.</param>
    /// <returns><c>docker</c> or <c>podman</c> (or the one preferred), or null when no engine answers.</returns>
    public static string? FindAnsweringRuntime(string? preferred)
    {
        string[] candidates = string.IsNullOrWhiteSpace(preferred) ? ["docker", "podman"] : [preferred];
        return candidates.FirstOrDefault(runtime => TryRun(runtime, ["info", "--format", InfoTemplate(runtime)], out _));
    }

    /// <summary>
    /// A field of the engine's own <c>info</c> answer. Docker's exits non-zero when its daemon does not answer, and any
    /// engine's does on a template naming a field its answer lacks: Docker's and Podman's differ in shape (Docker has no
    /// <c>.Host</c>, Podman no <c>.ServerVersion</c>).
    /// </summary>
    internal static string InfoTemplate(string runtime) =>
        Path.GetFileNameWithoutExtension(runtime).Equals("podman", StringComparison.OrdinalIgnoreCase) ? "{{.Host.Os}}" : "{{.ServerVersion}}";

    /// <summary>Runs one engine command to its end (or for at most ten seconds).</summary>
    /// <returns>Whether it ran and exited with 0; <paramref name="output"/> is what it wrote to standard output.</returns>
    public static bool TryRun(string runtime, IEnumerable<string> arguments, out string output)
    {
        output = "";
        var startInfo = new ProcessStartInfo(runtime, arguments)
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

            // Both streams are read while it runs: an engine that fills a pipe nobody reads would never exit.
            var standardOutput = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(s_timeout))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            output = standardOutput.GetAwaiter().GetResult();
            return process.ExitCode == 0;
        }
        catch (Win32Exception)
        {
            // Not installed.
            return false;
        }
    }
}
