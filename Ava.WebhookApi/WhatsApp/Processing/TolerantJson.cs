using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>
/// JSON read a part at a time, for payloads whose shape Ava does not control: a part that does not parse is counted
/// and left out, never fatal to its neighbours, and a property that is missing or of another kind reads as absent.
/// </summary>
internal static class TolerantJson
{
    /// <returns>The document, or null when the bytes are not JSON at all.</returns>
    public static JsonDocument? ParseDocument(byte[] json)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            try
            {
                // Not UTF-8 throughout: read what the bytes say, with replacement characters where they say nothing.
                return JsonDocument.Parse(Encoding.UTF8.GetString(json));
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    /// <returns>The part, or null when there is no object; one that does not parse is counted in <paramref name="skipped"/>.</returns>
    public static T? Parse<T>(JsonElement? element, JsonTypeInfo<T> type, ref int skipped)
        where T : class
    {
        if (element is not { ValueKind: JsonValueKind.Object } value)
        {
            return null;
        }

        try
        {
            return value.Deserialize(type);
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            skipped++;
            return null;
        }
    }

    public static JsonElement? Property(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : null;

    public static IEnumerable<JsonElement> Elements(JsonElement? array) =>
        array is { ValueKind: JsonValueKind.Array } items ? items.EnumerateArray() : [];
}
