using System.Diagnostics;
using System.Net.Http.Json;

namespace Ava.Benchmarks;

/// <summary>
/// The benchmark's handle on a <see cref="ResponderStandIn"/> running in a child process (this same program, in the
/// stand-in's mode): started before the stack, asked for its counts at the end, stopped by closing its input.
/// </summary>
public sealed class ResponderStandInProcess : IAsyncDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;

    private ResponderStandInProcess(Process process, Uri turnsUrl, string secret)
    {
        _process = process;
        TurnsUrl = turnsUrl;
        Secret = secret;
    }

    public Uri TurnsUrl { get; }

    /// <summary>The key Ava signs turns with.</summary>
    public string Secret { get; }

    /// <summary>The child as the CPU meter sees it.</summary>
    public ServiceProcess AsServiceProcess() => new(_process.Id, "responder stand-in", [ResponderStandIn.Mode]);

    public static async Task<ResponderStandInProcess> StartAsync(string secret, TimeSpan delay)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("The benchmark's own executable is unknown.");
        var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            // Run as `dotnet Ava.Benchmarks.dll`: the host needs the assembly again.
            start.ArgumentList.Add(typeof(ResponderStandIn).Assembly.Location);
        }

        start.ArgumentList.Add(ResponderStandIn.Mode);
        start.ArgumentList.Add("--delay");
        start.ArgumentList.Add(delay.TotalSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        start.Environment[ResponderStandIn.SecretVariable] = secret;
        var process = Process.Start(start) ?? throw new InvalidOperationException("The responder stand-in did not start.");
        using var timeout = new CancellationTokenSource(s_startTimeout);
        try
        {
            var url = await process.StandardOutput.ReadLineAsync(timeout.Token)
                ?? throw new InvalidOperationException($"The responder stand-in exited before it listened (exit code {(process.HasExited ? process.ExitCode : -1)}).");
            return new ResponderStandInProcess(process, new Uri(url), secret);
        }
        catch
        {
            process.Kill();
            process.Dispose();
            throw;
        }
    }

    public async Task<ResponderStandInStats> ReadStatsAsync()
    {
        using var http = new HttpClient();
        return await http.GetFromJsonAsync(new Uri(TurnsUrl, "/stats"), ResponderStandInJsonContext.Default.ResponderStandInStats)
            ?? throw new InvalidOperationException("The responder stand-in sent no counts.");
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}
