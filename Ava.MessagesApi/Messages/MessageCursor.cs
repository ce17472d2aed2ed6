using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;

namespace Ava.MessagesApi.Messages;

/// <summary>
/// Where a page of history ends: the (created_at, id) of its last message. Paging by this key instead of an offset
/// means no duplicates and no gaps while new messages arrive. Opaque to clients (base64url).
/// </summary>
public readonly record struct MessageCursor(DateTimeOffset CreatedAt, Guid Id)
{
    /// <summary>Where the first page starts: after every message, so that every page is asked for the same way.</summary>
    public static MessageCursor EndOfTime { get; } = new(DateTimeOffset.MaxValue, Guid.AllBitsSet);

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[24];
        BinaryPrimitives.WriteInt64BigEndian(bytes, CreatedAt.UtcTicks);
        Id.TryWriteBytes(bytes[8..], bigEndian: true, out _);
        return Base64Url.EncodeToString(bytes);
    }

    public static bool TryParse(string? text, [NotNullWhen(true)] out MessageCursor? cursor)
    {
        cursor = null;
        if (text is not { Length: 32 })
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[24];
        if (!Convert.TryFromBase64String(text.Replace('-', '+').Replace('_', '/'), bytes, out var written) || written != 24)
        {
            return false;
        }

        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        cursor = new MessageCursor(new DateTimeOffset(ticks, TimeSpan.Zero), new Guid(bytes[8..], bigEndian: true));
        return true;
    }
}
