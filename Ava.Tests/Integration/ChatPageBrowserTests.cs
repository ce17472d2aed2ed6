using System.Text.RegularExpressions;
using Ava.AppHost.WhatsApp;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Ava.Tests.Integration;

/// <summary>
/// The simulator's chat page in a real browser, against the whole stack: a person types, and sees what WhatsApp
/// would show. The ticks and "typing…" come from the read receipt Ava itself sends before each reply (the simulator
/// records it), not from the statuses the simulator reports for Ava's own replies, which tests leave off.
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class ChatPageBrowserTests(AvaStackFixture stack, Chromium chromium) : IClassFixture<Chromium>, IAsyncLifetime
{
    /// <summary>WhatsApp's blue of read ticks, as the page styles them.</summary>
    private const string ReadTicksColour = "rgb(52, 183, 241)";

    /// <summary>A photo: an 8×8 PNG of WhatsApp's green.</summary>
    private static readonly byte[] s_photo = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGNgjwvBihiGlgQA/4cuQfOY34EAAAAASUVORK5CYII=");

    private readonly AvaDatabase _database = new(stack);
    private readonly WhatsAppDriver _whatsApp = new(stack);
    private readonly List<string> _pageErrors = [];
    private IPage? _page;

    private IPage Page => _page ?? throw new InvalidOperationException("Not initialised.");

    public async ValueTask InitializeAsync()
    {
        _page = await chromium.NewPageAsync();
        _page.PageError += (_, error) => _pageErrors.Add(error);
        await _page.GotoAsync(stack.App.GetEndpoint(WhatsAppCloudApiExtensions.SimulatorName, "http").ToString());
    }

    public async ValueTask DisposeAsync()
    {
        if (_page is not null)
        {
            await _page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task A_linked_user_types_a_message_and_sees_the_echo_and_the_ticks_turn_blue()
    {
        var (phone, _) = await _database.LinkedUserAsync();

        await SendAsync(phone, "hello from the browser");

        await Expect(ReplyBubble("[Echo] hello from the browser")).ToBeVisibleAsync();
        var ticks = MyBubble("hello from the browser").GetByLabel("Read", new() { Exact = true });
        await Expect(ticks).ToBeVisibleAsync();
        await Expect(ticks).ToHaveCSSAsync("color", ReadTicksColour);
        Assert.Empty(_pageErrors);
    }

    [Fact]
    public async Task While_the_reply_is_on_its_way_the_chat_shows_typing_until_the_reply_arrives()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        // Meta takes a few seconds to accept the reply: the typing indicator Ava asked for stays up meanwhile.
        await _whatsApp.DelayNextSendsAsync(phone, 1, 4);

        await SendAsync(phone, "are you there?");

        var typing = Page.GetByText("typing…");
        await Expect(typing).ToBeVisibleAsync();
        await Expect(MyBubble("are you there?").GetByLabel("Read", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(ReplyBubble("[Echo] are you there?")).ToBeVisibleAsync();
        await Expect(typing).ToBeHiddenAsync();
        Assert.Empty(_pageErrors);
    }

    [Fact]
    public async Task A_photo_attached_with_a_caption_is_delivered_and_shows_in_its_bubble()
    {
        var phone = WhatsAppDriver.NewPhone();
        await Page.GetByLabel("Your phone number").FillAsync(phone);
        await Page.GetByLabel("Message", new() { Exact = true }).FillAsync("my cat");

        var chooser = await Page.RunAndWaitForFileChooserAsync(
            () => Page.GetByRole(AriaRole.Button, new() { Name = "Attach a photo or a voice note" }).ClickAsync());
        await chooser.SetFilesAsync(new FilePayload { Name = "cat.png", MimeType = "image/png", Buffer = s_photo });

        var bubble = MyBubble("my cat");
        var thumbnail = bubble.GetByRole(AriaRole.Img, new() { Name = "Photo sent" });
        await Expect(thumbnail).ToBeVisibleAsync();
        await Expect(bubble).ToContainTextAsync("delivered to Ava");
        Assert.True(await thumbnail.EvaluateAsync<bool>("image => image.complete && image.naturalWidth === 8"), "the thumbnail shows the photo");
        Assert.Empty(_pageErrors);
    }

    /// <summary>Types from the phone, as a person would: the number in the header, the text in the composer, Send.</summary>
    private async Task SendAsync(string phone, string text)
    {
        await Page.GetByLabel("Your phone number").FillAsync(phone);
        await Page.GetByLabel("Message", new() { Exact = true }).FillAsync(text);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(MyBubble(text)).ToBeVisibleAsync();
    }

    private ILocator MyBubble(string text) => Page.Locator(".bubble.me", new() { HasTextRegex = StartsWith(text) });

    private ILocator ReplyBubble(string text) => Page.Locator(".bubble.ava", new() { HasTextRegex = StartsWith(text) });

    private static Regex StartsWith(string text) => new("^" + Regex.Escape(text), RegexOptions.None, TimeSpan.FromSeconds(1));
}
