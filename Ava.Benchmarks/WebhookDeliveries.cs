using System.Globalization;
using System.Net.Http.Headers;
using Ava.WhatsApp.Contracts;
using Ava.WhatsApp.Testing;

namespace Ava.Benchmarks;

/// <summary>
/// Benchmark message n as Meta delivers it: one notification with one text message (<c>bench n</c>, wamid unique
/// to n) from linked user n mod users, to business number n mod numbers, signed with the app secret. Built when
/// sent: serialising and signing a small body costs a few microseconds, less than keeping tens of thousands ready.
/// With <paramref name="media"/>, the messages it picks carry it instead, the text as their caption.
/// </summary>
public sealed class WebhookDeliveries(string appSecret, int linkedUsers, int businessNumbers, BenchmarkMedia? media = null)
{
    /// <summary>Linked user i has phone <c>FirstPhone + i</c> (digits only, as Meta sends and Ava stores them).</summary>
    public const long FirstPhone = 15_550_000_000;

    /// <summary>Business number k has phone number id <c>FirstPhoneNumberId + k</c>.</summary>
    public const long FirstPhoneNumberId = 100_000_000_000_001;

    public HttpRequestMessage Create(long number) => CreateCopies(number, 1)[0];

    /// <summary>The same delivery (same body, same signature) as separate requests, as Meta sends it again.</summary>
    public HttpRequestMessage[] CreateCopies(long number, int copies)
    {
        var from = (FirstPhone + (number % linkedUsers)).ToString(CultureInfo.InvariantCulture);
        var phoneNumberId = (FirstPhoneNumberId + (number % businessNumbers)).ToString(CultureInfo.InvariantCulture);
        var text = GraphStandIn.TextPrefix + number.ToString(CultureInfo.InvariantCulture);
        var wamid = "wamid.BENCHIN" + number.ToString(CultureInfo.InvariantCulture);
        var message = media is not null && media.Carries(number)
            ? WebhookNotifications.Media(
                from,
                media.Type,
                new WebhookMedia(BenchmarkMedia.MediaIdFor(number), media.MimeType, media.Sha256Base64, text, media.Type == "document" ? $"bench-{number}.pdf" : null),
                wamid,
                DateTimeOffset.UtcNow)
            : WebhookNotifications.Text(from, text, wamid, DateTimeOffset.UtcNow);
        var body = WebhookNotifications.Serialize(WebhookNotifications.Messages(phoneNumberId, message));

        var signature = WebhookSignature.Compute(appSecret, body);
        var requests = new HttpRequestMessage[copies];
        for (var i = 0; i < copies; i++)
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            content.Headers.Add(WebhookSignature.HeaderName, signature);
            requests[i] = new HttpRequestMessage(HttpMethod.Post, "/webhook") { Content = content };
        }

        return requests;
    }
}
