using System.ComponentModel;
using System.Diagnostics;

namespace Ava.AppHost.Infrastructure;

/// <summary>Finds a container engine that really answers, not just a client on the PATH.</summary>
internal static class ContainerEngineProbe
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    /// <returns><c>docker</c> or <c>podman</c>, or null when neither engine answers.</returns>
    public static string? FindAnsweringRuntime()
    {
        // Aspire itself honours ASPIRE_CONTAINER_RUNTIME; probe that one alone when it is set.
        var preferred = Environment.GetEnvironmentVariable("ASPIRE_CONTAINER_RUNTIME");
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
