namespace Ava.Hosting.Local.Tests;

/// <summary>
/// A stand-in for the <c>docker</c> or <c>podman</c> command line, answering as the real one does for what the AppHost
/// asks of it: <c>info --format</c> (a template naming a field the engine's answer lacks fails; with the daemon down,
/// every <c>info</c> fails), <c>volume ls</c> and <c>volume rm</c> (refused while a volume is still in use).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class StandInEngine : IDisposable
{
    // Some top-level fields of each engine's `info` answer.
    private static readonly Dictionary<string, string[]> s_infoFields = new()
    {
        ["docker"] = ["ServerVersion", "OSType", "OperatingSystem", "Architecture", "Name", "ID"],
        ["podman"] = ["Host", "Version", "Store", "Registries", "Plugins"],
    };

    private readonly string _directory = Directory.CreateTempSubdirectory("ava-engine-").FullName;

    public StandInEngine(string engine = "docker")
    {
        Executable = Path.Combine(_directory, engine);
        File.WriteAllText(Path.Combine(_directory, "volumes"), "");
        File.WriteAllText(Executable, $$$"""
            #!/bin/sh
            cd '{{{_directory}}}'
            echo "$*" >> calls
            case "$1 $2" in
              "info "*)
                [ -e down ] && { echo "Cannot connect to the {{{engine}}} daemon. Is the daemon running?" >&2; exit 1; }
                for field in $(printf '%s' "$*" | grep -o '{{\.[A-Za-z]*' | cut -c4-); do
                  case " {{{string.Join(' ', s_infoFields[engine])}}} " in
                    *" $field "*) ;;
                    *) echo "template: :1:2: executing \"\" at <.$field>: can't evaluate field $field" >&2; exit 1 ;;
                  esac
                done
                echo answered ;;
              "volume ls") cat volumes ;;
              "volume rm")
                name="$4"
                busy=$(cat "busy-$name" 2>/dev/null || echo 0)
                if [ "$busy" -gt 0 ]; then
                  echo $((busy - 1)) > "busy-$name"
                  echo "Error response from daemon: remove $name: volume is in use" >&2; exit 1
                fi
                grep -vx "$name" volumes > volumes.next; mv volumes.next volumes ;;
            esac
            exit 0
            """ + "\n");
        File.SetUnixFileMode(Executable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>The engine's command, by full path.</summary>
    public string Executable { get; }

    /// <summary>The engine's daemon stops answering (Docker installed, not running).</summary>
    public void StopDaemon() => File.WriteAllText(Path.Combine(_directory, "down"), "");

    /// <summary>Volumes the engine holds.</summary>
    public IReadOnlyList<string> Volumes => File.ReadAllLines(Path.Combine(_directory, "volumes"));

    /// <summary>The engine has a volume, which it refuses to remove the first <paramref name="timesInUse"/> times it is asked.</summary>
    public void HasVolume(string name, int timesInUse = 0)
    {
        File.AppendAllLines(Path.Combine(_directory, "volumes"), [name]);
        File.WriteAllText(Path.Combine(_directory, $"busy-{name}"), timesInUse.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Every command the engine was given, one line of arguments each.</summary>
    public IReadOnlyList<string> Calls => File.Exists(Path.Combine(_directory, "calls")) ? File.ReadAllLines(Path.Combine(_directory, "calls")) : [];

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
