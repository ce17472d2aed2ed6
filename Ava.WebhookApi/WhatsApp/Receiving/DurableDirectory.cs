using System.Runtime.InteropServices;
using System.Text;

namespace Ava.WebhookApi.WhatsApp.Receiving;

/// <summary>
/// fsync of a directory, which makes the creation, renaming and removal of its entries durable. .NET has no API
/// for it; on Linux it is <c>open(dir, O_RDONLY)</c> + <c>fsync</c>. Elsewhere it does nothing (Windows has no
/// equivalent; NTFS journals the rename).
/// </summary>
internal static class DurableDirectory
{
    private const int ReadOnly = 0;

    /// <summary>O_CLOEXEC, the same on every Linux architecture .NET runs on. (O_DIRECTORY is not: without it the
    /// open only forgoes the check that the path is a directory, which it is.)</summary>
    private const int CloseOnExec = 0x80000;

    public static void Sync(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var path = Encoding.UTF8.GetBytes(directory + '\0');
        var descriptor = open(path, ReadOnly | CloseOnExec);
        if (descriptor < 0)
        {
            throw new IOException($"Could not open {directory} to sync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (fsync(descriptor) != 0)
            {
                throw new IOException($"Could not sync {directory} (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = close(descriptor);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int open(byte[] path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
}
