using Ava.Hosting.Local.Tests;

namespace Ava.Tests.AppModel;

/// <summary>
/// Docker as far as choosing goes: named to the AppHost as its container runtime (<c>ASPIRE_CONTAINER_RUNTIME</c>), a
/// stand-in that answers <c>docker info</c> as a running engine does makes this machine, which has no engine, look
/// like a laptop with Docker. Nothing is ever started on it.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class StandInContainerEngine : IDisposable
{
    private readonly StandInEngine _docker = new("docker");

    /// <summary>The AppHost argument that names this engine.</summary>
    public string Argument => $"--ASPIRE_CONTAINER_RUNTIME={_docker.Executable}";

    /// <summary>Whether anything asked the engine anything (whether it answers, first).</summary>
    public bool WasAsked => _docker.Calls.Count > 0;

    public void Dispose() => _docker.Dispose();
}
