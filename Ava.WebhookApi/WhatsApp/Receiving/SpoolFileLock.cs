using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ava.WebhookApi.WhatsApp.Receiving;

/// <summary>
/// Exclusive advisory locks on open files: <c>flock(LOCK_EX)</c> on Unix, a share mode that admits nobody else on
/// Windows. The lock lives as long as the open file and dies with the process that holds it (crash, kill, OOM,
/// container stop), which is what makes it a claim that needs neither process ids nor leases.
/// </summary>
/// <remarks>
/// .NET already calls <c>flock(LOCK_EX|LOCK_NB)</c> for <see cref="FileShare.None"/> on Unix, but ignores every
/// failure except "held by someone else" (and skips locking altogether under <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c>),
/// so the lock is taken again here, where a failure refuses the claim instead of silently granting it.
/// What it covers: processes and containers on one host sharing a volume (the lock is on the inode in the one
/// kernel, whatever the PID or mount namespace). Across hosts on NFS, Linux turns <c>flock</c> into a whole-file
/// byte-range lock kept by the server (NFSv4, or NFSv3 with a working lockd; never with <c>nolock</c> or
/// <c>local_lock=flock|all</c>, which keep locks on the client) — which is why the file is opened for writing: NFS
/// grants an exclusive lock only on a writable descriptor. There, a crashed host's locks are freed when its NFS
/// lease expires (90 s by default), and a host cut off from the server for longer than its lease may lose its lock
/// while still draining: at worst a batch is stored twice, which processing absorbs (exactly once per wamid).
/// </remarks>
internal static class SpoolFileLock
{
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;

    /// <summary>EWOULDBLOCK: 11 on Linux, 35 on macOS and the BSDs.</summary>
    private static readonly int s_wouldBlock = OperatingSystem.IsLinux() ? 11 : 35;

    /// <summary>ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION.</summary>
    private static readonly int[] s_windowsInUse = [unchecked((int)0x80070020), unchecked((int)0x80070021)];

    /// <returns>The open, locked file; null when another holder has it or it is gone.</returns>
    public static FileStream? TryOpenExclusive(string file)
    {
        FileStream stream;
        try
        {
            // Windows: sharing nothing but deletion excludes every other opener, yet lets the holder rename or
            // delete the file it holds.
            stream = new FileStream(
                file, FileMode.Open, FileAccess.ReadWrite, OperatingSystem.IsWindows() ? FileShare.Delete : FileShare.None, bufferSize: 0);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (IOException exception) when (IsHeldElsewhere(exception))
        {
            return null;
        }
        catch (UnauthorizedAccessException) when (OperatingSystem.IsWindows())
        {
            // A file being deleted by its holder.
            return null;
        }

        var error = OperatingSystem.IsWindows() ? 0 : Lock(stream.SafeFileHandle);
        if (error == 0)
        {
            return stream;
        }

        stream.Dispose();
        return error == s_wouldBlock
            ? null
            : throw new IOException(
                $"The spool directory's file system cannot lock files (errno {error}); spooled deliveries are not drained until it can.");
    }

    /// <summary>Locks a file this process has just created, so that nobody takes it for an orphan while it is
    /// written. Best effort: a file system without locks must not cost a delivery (the writer's file is also
    /// too young to be taken for an orphan).</summary>
    public static void TryLockNew(FileStream stream)
    {
        if (!OperatingSystem.IsWindows())
        {
            _ = Lock(stream.SafeFileHandle);
        }
    }

    private static bool IsHeldElsewhere(IOException exception) =>
        OperatingSystem.IsWindows() ? s_windowsInUse.Contains(exception.HResult) : exception.HResult == s_wouldBlock;

    /// <returns>0, or the errno of the failure.</returns>
    private static int Lock(SafeFileHandle handle)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return flock((int)handle.DangerousGetHandle(), LockExclusive | LockNonBlocking) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int flock(int fd, int operation);
}
