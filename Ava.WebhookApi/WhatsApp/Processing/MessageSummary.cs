using System.Globalization;
using Ava.WhatsApp.Contracts;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>What a message says, in one readable line: its text, or for other types a summary such as
/// <c>[image] caption</c>, so that history shows every message and nothing is silently dropped.</summary>
internal static class MessageSummary
{
    public static string Describe(WebhookMessage message) => message.Type switch
    {
        "text" => message.Text?.Body ?? "",
        "image" => Media("image", message.Image),
        "video" => Media("video", message.Video),
        "audio" => Media("audio", message.Audio),
        "sticker" => Media("sticker", message.Sticker),
        "document" => Media("document", message.Document, message.Document?.Filename),
        "location" => Location(message.Location),
        "contacts" => string.Create(CultureInfo.InvariantCulture, $"[contacts] {message.Contacts?.Count ?? 0} contact(s)"),
        "reaction" => string.IsNullOrEmpty(message.Reaction?.Emoji) ? "[reaction removed]" : $"[reaction] {message.Reaction.Emoji}",
        "interactive" => Tagged("interactive", message.Interactive?.ButtonReply?.Title ?? message.Interactive?.ListReply?.Title),
        "button" => Tagged("button", message.Button?.Text),
        "system" => Tagged("system", message.System?.Body),
        "order" => "[order]",
        "unsupported" => Tagged("unsupported", message.Errors?.FirstOrDefault()?.Title),
        null => "[unknown]",
        var other => $"[{other}]",
    };

    private static string Media(string kind, WebhookMedia? media, string? name = null) =>
        Tagged(kind, string.Join(" ", new[] { name, media?.Caption }.Where(part => !string.IsNullOrWhiteSpace(part))));

    private static string Location(WebhookLocation? location)
    {
        if (location is null)
        {
            return "[location]";
        }

        var place = string.Join(", ", new[] { location.Name, location.Address }.Where(part => !string.IsNullOrWhiteSpace(part)));
        var coordinates = location.Latitude is { } lat && location.Longitude is { } lon
            ? string.Create(CultureInfo.InvariantCulture, $"({lat}, {lon})")
            : "";
        return Tagged("location", string.Join(" ", new[] { place, coordinates }.Where(part => part.Length > 0)));
    }

    private static string Tagged(string kind, string? detail) =>
        string.IsNullOrWhiteSpace(detail) ? $"[{kind}]" : $"[{kind}] {detail}";
}
