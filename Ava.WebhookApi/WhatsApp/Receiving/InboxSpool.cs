using Ava.WebhookApi.WhatsApp.Model;
using Microsoft.Extensions.Options;

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
            SpoolFileLock.TryLockNew(file);
            foreach (var delivery in deliveries)
            {
                SpoolRecordFormat.WriteRecord(file, delivery);
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
    /// in other processes and in other containers on the same host exclude each other; see <see cref="SpoolFileLock"/> for
    /// what holds across hosts.
    /// </summary>
    /// <returns>The claim, or null when another claimant holds the batch or has finished it.</returns>
    /// <exception cref="IOException">The file system cannot lock files: refusing to drain rather than risk
    /// draining a batch twice.</exception>
    public SpoolClaim? TryClaim(string file)
    {
        if (SpoolFileLock.TryOpenExclusive(file) is not { } stream)
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
        using var stream = SpoolFileLock.TryOpenExclusive(temporary);
        if (stream is null || !File.Exists(temporary))
        {
            return OrphanedWriteOutcome.InUse;
        }

        var contents = SpoolRecordFormat.ReadAll(stream);
        if (contents.IsComplete && contents.Deliveries.Count > 0)
        {
            File.Move(temporary, Path.ChangeExtension(temporary, Extension));
            DurableDirectory.Sync(_directory);
            return OrphanedWriteOutcome.Published;
        }

        File.Delete(temporary);
        return OrphanedWriteOutcome.Removed;
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
}

/// <summary>What became of a temporary spool file whose writer is gone (see <see cref="InboxSpool.RecoverOrphanedWrite"/>).</summary>
internal enum OrphanedWriteOutcome
{
    /// <summary>Its writer is still at work (or the file is already gone).</summary>
    InUse,

    /// <summary>Complete: moved into the spool.</summary>
    Published,

    /// <summary>Torn mid-write, never acknowledged: deleted.</summary>
    Removed,
}
