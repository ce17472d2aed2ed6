using Ava.AppHost.Tunnels;

namespace Ava.Tests.Unit;

public sealed class TunnelExecutableOnPathTests : IDisposable
{
    private readonly DirectoryInfo _first = Directory.CreateTempSubdirectory("ava-path-");
    private readonly DirectoryInfo _second = Directory.CreateTempSubdirectory("ava-path-");

    [Fact]
    public void The_first_directory_on_the_path_with_an_executable_of_that_name_wins()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix file modes");
        var notExecutable = Write(_first, "cloudflared", executable: false);
        var executable = Write(_second, "cloudflared", executable: true);
        Write(_second, "ngrok", executable: true);

        var path = string.Join(Path.PathSeparator, "", _first.FullName, _second.FullName);

        Assert.NotEqual(notExecutable, ExecutableOnPath.Find("cloudflared", path, windowsExtensions: null));
        Assert.Equal(executable, ExecutableOnPath.Find("cloudflared", path, windowsExtensions: null));
        Assert.Null(ExecutableOnPath.Find("devtunnel", path, windowsExtensions: null));
        Assert.Null(ExecutableOnPath.Find("cloudflared", path: null, windowsExtensions: null));
    }

    [Fact]
    public void On_windows_the_path_extensions_are_tried_in_order()
    {
        Write(_first, "devtunnel", executable: false);
        var exe = Write(_second, "devtunnel.exe", executable: false);

        var path = string.Join(Path.PathSeparator, _first.FullName, _second.FullName);

        Assert.Equal(exe, ExecutableOnPath.Find("devtunnel", path, ".COM;.EXE;.BAT;.CMD"));
    }

    public void Dispose()
    {
        _first.Delete(recursive: true);
        _second.Delete(recursive: true);
    }

    private static string Write(DirectoryInfo directory, string name, bool executable)
    {
        var file = Path.Combine(directory.FullName, name);
        File.WriteAllText(file, "#!/bin/sh\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, executable
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                : UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return file;
    }
}
