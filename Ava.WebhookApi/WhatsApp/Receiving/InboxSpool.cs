using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Options;

namespace Ava.WebhookApi.WhatsApp.Receiving;

/// <summary>
/// The inbox's fallback when Postgres cannot take a delivery: batches written to fsynced files, each file complete
/// or absent (written aside, then renamed), read back in order by <see cref="InboxSpoolDrainer"/>.
/// </summary>
internal sealed class InboxSpool
{
    private const string Extension = ".spool";

    private readonly string _directory;

    public InboxSpool(IOptions<WhatsAppProcessingOptions> options)
    {
        _directory = options.Value.SpoolDirectory;
        Directory.CreateDirectory(_directory);
    }

    public bool IsEmpty => !Directory.EnumerateFiles(_directory, "*" + Extension).Any()
        && !Directory.EnumerateFiles(_directory, "*.draining").Any();

    /// <summary>Stores a batch durably; when this returns, the batch survives a crash of the process or machine.</summary>
    public void Append(IReadOnlyList<InboundDeliveryRecord> deliveries)
    {
        var name = $"{DateTimeOffset.UtcNow:yyyyMMddHHmmssfffffff}-{Guid.NewGuid():N}";
        var temporary = Path.Combine(_directory, name + ".tmp");
        using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.WriteThrough))
        {
            foreach (var delivery in deliveries)
            {
                WriteRecord(file, delivery);
            }

            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, Path.Combine(_directory, name + Extension));
    }

    /// <summary>Spooled batches, oldest first.</summary>
    public IEnumerable<string> Files() =>
        Directory.EnumerateFiles(_directory, "*" + Extension).Order(StringComparer.Ordinal);

    /// <summary>
    /// Takes a spooled batch for this instance alone (instances may share the directory): a rename, which exactly
    /// one of them wins.
    /// </summary>
    /// <returns>The claimed file, or null when another instance took it first.</returns>
    public static string? Claim(string file)
    {
        var claimed = Path.ChangeExtension(file, $".{Environment.ProcessId}.draining");
        try
        {
            File.Move(file, claimed);
            return claimed;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Batches claimed by an instance that stopped before it finished them.</summary>
    public IEnumerable<string> AbandonedClaims() =>
        Directory.EnumerateFiles(_directory, "*.draining")
            .Where(file => !ClaimantIsAlive(file));

    /// <summary>Hands an abandoned claim back, so that it is drained like any spooled batch.</summary>
    public static void Release(string claimedFile)
    {
        var original = Path.ChangeExtension(Path.ChangeExtension(claimedFile, null), Extension);
        try
        {
            File.Move(claimedFile, original);
        }
        catch (FileNotFoundException)
        {
            // Released by another instance meanwhile.
        }
    }

    private static bool ClaimantIsAlive(string claimedFile)
    {
        // name.<pid>.draining: a claim of a live process on this machine is left alone.
        var pidText = Path.GetExtension(Path.ChangeExtension(claimedFile, null)).TrimStart('.');
        if (!int.TryParse(pidText, System.Globalization.CultureInfo.InvariantCulture, out var pid))
        {
            return false;
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public static IReadOnlyList<InboundDeliveryRecord> Read(string file)
    {
        var bytes = File.ReadAllBytes(file);
        var records = new List<InboundDeliveryRecord>();
        var reader = new SpanReader(bytes);
        while (!reader.AtEnd)
        {
            var receivedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
            var traceParent = reader.ReadBytes() is { Length: > 0 } trace ? Encoding.ASCII.GetString(trace) : null;
            var body = reader.ReadBytes().ToArray();
            records.Add(new InboundDeliveryRecord(receivedAt, body, traceParent));
        }

        return records;
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

    private ref struct SpanReader(ReadOnlySpan<byte> bytes)
    {
        private ReadOnlySpan<byte> _rest = bytes;

        public readonly bool AtEnd => _rest.IsEmpty;

        public long ReadInt64()
        {
            var value = BinaryPrimitives.ReadInt64LittleEndian(_rest);
            _rest = _rest[8..];
            return value;
        }

        public ReadOnlySpan<byte> ReadBytes()
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(_rest);
            var bytes = _rest.Slice(4, length);
            _rest = _rest[(4 + length)..];
            return bytes;
        }
    }
}
