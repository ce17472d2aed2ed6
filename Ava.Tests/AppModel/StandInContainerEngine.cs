namespace Ava.Tests.AppModel;

/// <summary>
/// A stand-in for <c>docker</c> that answers <c>docker info</c> as a running engine does and notes that it was asked:
/// named to the AppHost as its container runtime (<c>ASPIRE_CONTAINER_RUNTIME</c>), it makes this machine, which has
/// no engine, look like a laptop with Docker — as far as choosing goes. Nothing is ever started on it.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class StandInContainerEngine : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ava-engine-").FullName;

    public StandInContainerEngine()
    {
        File.WriteAllText(Executable, $"#!/bin/sh\ntouch '{AskedMarker}'\nexit 0\n");
        File.SetUnixFileMode(Executable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>The AppHost argument that names this engine.</summary>
    public string Argument => $"--ASPIRE_CONTAINER_RUNTIME={Executable}";

    /// <summary>Whether anything asked the engine whether it answers.</summary>
    public bool WasAsked => File.Exists(AskedMarker);

    private string Executable => Path.Combine(_directory, "docker");

    private string AskedMarker => Path.Combine(_directory, "asked");

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
