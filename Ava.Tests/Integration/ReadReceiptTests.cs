namespace Ava.Tests.Integration;

/// <summary>A message Ava answers shows blue ticks and "typing…" before its reply, without ever holding the reply up.</summary>
[Collection(AvaStackCollection.Name)]
public sealed class ReadReceiptTests(AvaStackFixture stack)
{
    private readonly WhatsAppDriver _whatsApp = new(stack);
    private readonly AvaDatabase _database = new(stack);

    [Fact]
    public async Task An_answered_message_is_marked_read_with_the_typing_indicator_just_before_its_reply()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        var message = WhatsAppDriver.Text(phone, "did you read me?");

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(message)));

        var reply = Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1));
        var read = Assert.Single(await _whatsApp.ReadsOfAsync(message.Id!));
        Assert.Equal((200, true, WhatsAppDriver.PhoneNumberId), (read.HttpStatus, read.Typing, read.PhoneNumberId));
        Assert.True(read.At <= reply.At, $"marked read at {read.At:O}, replied at {reply.At:O}");
    }

    [Fact]
    public async Task A_message_ava_does_not_answer_is_not_marked_read()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        var image = WhatsAppDriver.Message(phone, "image");
        var text = WhatsAppDriver.Text(phone, "and a text");

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(image, text)));

        Assert.Equal("[Echo] and a text", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        Assert.Empty(await _whatsApp.ReadsOfAsync(image.Id!));
        Assert.Single(await _whatsApp.ReadsOfAsync(text.Id!));
    }

    [Fact]
    public async Task A_failed_read_receipt_is_dropped_and_the_reply_goes_once_all_the_same()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        var message = WhatsAppDriver.Text(phone, "read me or not");
        await _whatsApp.FailNextReadReceiptAsync(message.Id!, 500, 131000, "Something went wrong");

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(message)));

        Assert.Equal("[Echo] read me or not", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        Assert.Equal([500], (await _whatsApp.ReadsOfAsync(message.Id!)).Select(r => r.HttpStatus));
        Assert.Equal(
            [new ReplyAttempts("sent", 1)],
            await _database.RepliesToAsync(phone));
    }
}
