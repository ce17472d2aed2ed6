using System.Diagnostics;

namespace Ava.Benchmarks;

/// <summary>
/// A small file system of its own (tmpfs, a fixed size) for a directory the stack writes to, so that it can really
/// run full: the ENOSPC a full volume gives, not a simulated one. Mounting needs root (or CAP_SYS_ADMIN).
/// </summary>
public sealed class TmpfsVolume : IDisposable
{
    private TmpfsVolume(string path, long sizeBytes)
    {
        Path = path;
        SizeBytes = sizeBytes;
    }

    public string Path { get; }

    public long SizeBytes { get; }

    /// <summary>Bytes still free for writing (statvfs of the mount).</summary>
    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    /// <summary>Files directly in the volume (a spool's batches waiting to be drained).</summary>
    public int FileCount => Directory.EnumerateFiles(Path).Count();

    /// <exception cref="TmpfsUnavailableException">The volume could not be mounted here (not root, no tmpfs).</exception>
    public static async Task<TmpfsVolume> MountAsync(long sizeBytes)
    {
        var path = Directory.CreateTempSubdirectory("ava-bench-volume-").FullName;
        var (exitCode, output) = await RunAsync("mount", "-t", "tmpfs", "-o", $"size={sizeBytes},mode=0700", "tmpfs", path);
        if (exitCode != 0)
        {
            Directory.Delete(path);
            throw new TmpfsUnavailableException($"mount -t tmpfs failed ({output.Trim()}); it needs root or CAP_SYS_ADMIN");
        }

        return new TmpfsVolume(path, sizeBytes);
    }

    public void Dispose()
    {
        // Lazily, should a process that was not stopped still hold a file there: the mount goes when it lets go.
        var (exitCode, output) = RunAsync("umount", "--lazy", Path).GetAwaiter().GetResult();
        if (exitCode == 0)
        {
            Directory.Delete(Path);
        }
        else
        {
            Console.Error.WriteLine($"Could not unmount the tmpfs at {Path}: {output.Trim()}");
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, output + await error);
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            return (-1, exception.Message);
        }
    }
}

public sealed class TmpfsUnavailableException(string message) : Exception(message);
