using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Ava.WebhookApi.WhatsApp.Model;

namespace Ava.WebhookApi.WhatsApp.Receiving;

/// <summary>
/// How a spooled batch is laid out on disk: records of (received at, traceparent, body), each length-prefixed, read
/// back up to the first that is cut short or implausible.
/// </summary>
internal static class SpoolRecordFormat
{
    /// <summary>A W3C traceparent is 55 characters; anything much longer is garbage.</summary>
    private const int MaxTraceParentLength = 512;

    /// <summary>Earlier than any delivery this service can have received: a record stamped before it is garbage.</summary>
    private static readonly long s_earliestPlausibleReceipt = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    public static SpoolContents ReadAll(FileStream stream)
    {
        var bytes = new byte[stream.Length];
        var length = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        return Parse(bytes.AsSpan(0, length));
    }

    /// <summary>Every record up to the first that is cut short or implausible (a length beyond the end of the file,
    /// a timestamp no delivery can have): a damaged file yields what precedes the damage.</summary>
    public static SpoolContents Parse(ReadOnlySpan<byte> bytes)
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

    public static void WriteRecord(Stream stream, InboundDeliveryRecord delivery)
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
}

/// <summary>What a spooled file holds: its records up to the first damaged one, and whether there was none.</summary>
internal sealed record SpoolContents(IReadOnlyList<InboundDeliveryRecord> Deliveries, bool IsComplete);
