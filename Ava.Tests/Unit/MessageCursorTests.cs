using Ava.MessagesApi.Messages;

namespace Ava.Tests.Unit;

/// <summary>The cursor a page hands to the next: opaque to clients, exact for the query.</summary>
public sealed class MessageCursorTests
{
    [Fact]
    public void A_cursor_reads_back_as_the_exact_message_it_was_made_from()
    {
        var cursor = new MessageCursor(new DateTimeOffset(2026, 11, 25, 12, 0, 0, 123, TimeSpan.Zero).AddTicks(4567), Guid.CreateVersion7());

        var text = cursor.ToString();

        Assert.Equal(32, text.Length);
        Assert.DoesNotContain('+', text);
        Assert.DoesNotContain('/', text);
        Assert.True(MessageCursor.TryParse(text, out var read));
        Assert.Equal(cursor, read);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-cursor")]
    [InlineData("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!")]
    [InlineData("________________________________")]
    public void Anything_that_is_not_a_cursor_is_refused(string? text) =>
        Assert.False(MessageCursor.TryParse(text, out _));
}
