using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace Ava.WebhookApi.WhatsApp.Receiving;

/// <summary>
/// The inbox's fallback when Postgres cannot take a delivery: batches written to fsynced files, each file complete
/// or absent (written aside, then renamed), read back in order by <see cref="InboxSpoolDrainer"/>.
/// </summary>
/// <remarks>
/// Several instances may share the directory (a volume). A batch is drained by whoever holds an exclusive lock on
/// its open file (<see cref="TryClaim"/>), not by whoever renamed it: the operating system drops the lock the moment
/// its holder dies, however it dies, so a crashed drainer's file is taken over on the next round, a live drainer's
/// never, and no process id, host name or clock is involved (in containers every instance is PID 1).
/// </remarks>
internal sealed class InboxSpool
{
    private const string Extension = ".spool";
    private const string TemporaryExtension = ".tmp";
    private const string QuarantineFolder = "quarantine";

    /// <summary>Claims of the earlier scheme, <c>name.&lt;pid&gt;.draining</c>: drained like any batch, since their
    /// owner's pid says nothing about whether it is alive (a restarted container is PID 1 again).</summary>
    private const string LegacyClaimExtension = ".draining";

    /// <summary>A W3C traceparent is 55 characters; anything much longer is garbage.</summary>
    private const int MaxTraceParentLength = 512;

    /// <summary>Earlier than any delivery this service can have received: a record stamped before it is garbage.</summary>
    private static readonly long s_earliestPlausibleReceipt = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private readonly string _directory;
    private readonly TimeProvider _clock;

    public InboxSpool(IOptions<WhatsAppProcessingOptions> options, TimeProvider clock)
    {
        _directory = options.Value.SpoolDirectory;
        _clock = clock;
        Directory.CreateDirectory(_directory);
    }

    public string QuarantineDirectory => Path.Combine(_directory, QuarantineFolder);

    /// <summary>No batch waits to be drained (files in quarantine do not count: they wait for a person).</summary>
    public bool IsEmpty => !Files().Any();

    public int QuarantinedCount =>
        Directory.Exists(QuarantineDirectory) ? Directory.EnumerateFiles(QuarantineDirectory).Count() : 0;

    /// <summary>
    /// Stores a batch durably; when this returns, the batch survives a crash of the process or machine. Callers
    /// acknowledge a delivery only after this returns, so a batch still in its temporary file was not acknowledged
    /// unless the rename that published it was lost (see <see cref="RecoverOrphanedWrite"/>).
    /// </summary>
    public void Append(IReadOnlyList<InboundDeliveryRecord> deliveries)
    {
        var name = $"{_clock.GetUtcNow():yyyyMMddHHmmssfffffff}-{Guid.NewGuid():N}";
        var temporary = Path.Combine(_directory, name + TemporaryExtension);
        try
        {
            // Buffered writes and one fsync at the end: the same durability as write-through, at one flush per batch.
            using var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024);
            FileLock.TryLockNew(file);
            foreach (var delivery in deliveries)
            {
                WriteRecord(file, delivery);
            }

            file.Flush(flushToDisk: true);
        }
        catch
        {
            // Not acknowledged: nothing worth keeping. (Should the delete fail too, the file is settled as an orphan.)
            DeleteIfPossible(temporary);
            throw;
        }

        File.Move(temporary, Path.Combine(_directory, name + Extension));

        // The rename lives in the directory: until the directory is synced, a power loss can undo it.
        DurableDirectory.Sync(_directory);
    }

    /// <summary>Batches waiting to be drained, oldest first.</summary>
    public IEnumerable<string> Files() =>
        Directory.EnumerateFiles(_directory, "*" + Extension)
            .Concat(Directory.EnumerateFiles(_directory, "*" + LegacyClaimExtension))
            .Order(StringComparer.Ordinal);

    /// <summary>
    /// Takes a batch for this claimant alone, for as long as the returned claim is open. Claimants in this process,
    /// in other processes and in other containers on the same host exclude each other; see <see cref="FileLock"/> for
    /// what holds across hosts.
    /// </summary>
    /// <returns>The claim, or null when another claimant holds the batch or has finished it.</returns>
    /// <exception cref="IOException">The file system cannot lock files: refusing to drain rather than risk
    /// draining a batch twice.</exception>
    public SpoolClaim? TryClaim(string file)
    {
        if (FileLock.TryOpenExclusive(file) is not { } stream)
        {
            return null;
        }

        // The previous holder may have drained and deleted the file between our open and our lock: its name is unique
        // and never reused, so a lock on a name that is gone is a lock on a finished batch.
        if (!File.Exists(file))
        {
            stream.Dispose();
            return null;
        }

        return new SpoolClaim(file, stream, QuarantineDirectory);
    }

    /// <summary>Temporary files that no writer has touched for <paramref name="minimumAge"/>: left by a crash mid-write
    /// (or before a rename was durable), or still being written by a slow writer (which <see cref="RecoverOrphanedWrite"/>
    /// recognises by its lock).</summary>
    public IEnumerable<string> OrphanedWrites(TimeSpan minimumAge)
    {
        var writtenBefore = _clock.GetUtcNow().UtcDateTime - minimumAge;
        return Directory.EnumerateFiles(_directory, "*" + TemporaryExtension)
            .Where(file => File.GetLastWriteTimeUtc(file) <= writtenBefore)
            .Order(StringComparer.Ordinal);
    }

    /// <summary>
    /// Settles a temporary file whose writer is gone. A complete batch is published: its rename may have been lost
    /// after the batch was acknowledged (a power loss where the directory was not synced: files of earlier versions,
    /// platforms without a directory sync), and publishing a batch that was not acknowledged costs only a duplicate,
    /// which processing absorbs. An incomplete one is removed: the writer syncs the whole batch before the rename and
    /// acknowledges after it, so a torn batch was never acknowledged and Meta sends it again.
    /// </summary>
    public OrphanedWriteOutcome RecoverOrphanedWrite(string temporary)
    {
        using var stream = FileLock.TryOpenExclusive(temporary);
        if (stream is null || !File.Exists(temporary))
        {
            return OrphanedWriteOutcome.InUse;
        }

        var contents = ReadAll(stream);
        if (contents.IsComplete && contents.Deliveries.Count > 0)
        {
            File.Move(temporary, Path.ChangeExtension(temporary, Extension));
            DurableDirectory.Sync(_directory);
            return OrphanedWriteOutcome.Published;
        }

        File.Delete(temporary);
        return OrphanedWriteOutcome.Removed;
    }

    internal static SpoolContents ReadAll(FileStream stream)
    {
        var bytes = new byte[stream.Length];
        var length = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        return Parse(bytes.AsSpan(0, length));
    }

    /// <summary>Every record up to the first that is cut short or implausible (a length beyond the end of the file,
    /// a timestamp no delivery can have): a damaged file yields what precedes the damage.</summary>
    internal static SpoolContents Parse(ReadOnlySpan<byte> bytes)
    {
        var records = new List<InboundDeliveryRecord>();
        var rest = bytes;
        while (!rest.IsEmpty)
        {
            if (!TryReadRecord(ref rest, out var record))
            {
                return new SpoolContents(records, IsComplete: false);
            }

            records.Add(record);
        }

        return new SpoolContents(records, IsComplete: true);
    }

    private static bool TryReadRecord(ref ReadOnlySpan<byte> rest, [NotNullWhen(true)] out InboundDeliveryRecord? record)
    {
        record = null;
        var reading = rest;
        if (reading.Length < sizeof(long))
        {
            return false;
        }

        var receivedAt = BinaryPrimitives.ReadInt64LittleEndian(reading);
        reading = reading[sizeof(long)..];
        if (receivedAt < s_earliestPlausibleReceipt || receivedAt > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            || !TryReadBytes(ref reading, MaxTraceParentLength, out var trace)
            || trace.ContainsAnyExceptInRange((byte)0x20, (byte)0x7E)
            || !TryReadBytes(ref reading, int.MaxValue, out var body))
        {
            return false;
        }

        record = new InboundDeliveryRecord(
            DateTimeOffset.FromUnixTimeMilliseconds(receivedAt),
            body.ToArray(),
            trace.IsEmpty ? null : Encoding.ASCII.GetString(trace));
        rest = reading;
        return true;
    }

    private static bool TryReadBytes(ref ReadOnlySpan<byte> rest, int maxLength, out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        if (rest.Length < sizeof(int))
        {
            return false;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(rest);
        if (length < 0 || length > maxLength || length > rest.Length - sizeof(int))
        {
            return false;
        }

        bytes = rest.Slice(sizeof(int), length);
        rest = rest[(sizeof(int) + length)..];
        return true;
    }

    private static void DeleteIfPossible(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // The caller's own failure is the one worth reporting.
        }
    }

    private static void WriteRecord(Stream stream, InboundDeliveryRecord delivery)
    {
        Span<byte> number = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(number, delivery.ReceivedAt.ToUnixTimeMilliseconds());
        stream.Write(number);
        WriteBytes(stream, delivery.TraceParent is null ? [] : Encoding.ASCII.GetBytes(delivery.TraceParent));
        WriteBytes(stream, delivery.Body);
    }

    private static void WriteBytes(Stream stream, ReadOnlySpan<byte> bytes)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
        stream.Write(length);
        stream.Write(bytes);
    }

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
    private static class FileLock
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

    /// <summary>
    /// fsync of a directory, which makes the creation, renaming and removal of its entries durable. .NET has no API
    /// for it; on Linux it is <c>open(dir, O_RDONLY)</c> + <c>fsync</c>. Elsewhere it does nothing (Windows has no
    /// equivalent; NTFS journals the rename).
    /// </summary>
    private static class DurableDirectory
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
}

/// <summary>What a spooled file holds: its records up to the first damaged one, and whether there was none.</summary>
internal sealed record SpoolContents(IReadOnlyList<InboundDeliveryRecord> Deliveries, bool IsComplete);

internal enum OrphanedWriteOutcome
{
    /// <summary>Its writer is still at work (or the file is already gone).</summary>
    InUse,

    /// <summary>Complete: moved into the spool.</summary>
    Published,

    /// <summary>Torn mid-write, never acknowledged: deleted.</summary>
    Removed,
}

/// <summary>A spooled batch held by one drainer; disposing it lets go (the batch stays for the next round).</summary>
internal sealed class SpoolClaim(string file, FileStream stream, string quarantineDirectory) : IDisposable
{
    public string FilePath { get; } = file;

    public SpoolContents Read()
    {
        stream.Position = 0;
        return InboxSpool.ReadAll(stream);
    }

    /// <summary>The batch is stored elsewhere: remove it (still holding the claim, so nobody opens it meanwhile).</summary>
    public void Complete() => File.Delete(FilePath);

    /// <summary>Moves the batch aside for a person to look at; unreadable data is never deleted.</summary>
    /// <returns>Where it went.</returns>
    public string Quarantine()
    {
        Directory.CreateDirectory(quarantineDirectory);
        var destination = Path.Combine(quarantineDirectory, Path.GetFileName(FilePath));
        File.Move(FilePath, destination);
        return destination;
    }

    public void Dispose() => stream.Dispose();
}
