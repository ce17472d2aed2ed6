using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Ava.WebhookApi.WhatsApp;

/// <summary>
/// Traces and metrics of a message's way through Ava. Tags never carry message text or full phone numbers.
/// </summary>
internal sealed class WhatsAppTelemetry : IDisposable
{
    public const string Name = "Ava.WhatsApp";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Meter _meter;

    public WhatsAppTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(Name);
        DeliveriesReceived = _meter.CreateCounter<long>("ava.whatsapp.deliveries.received", description: "Webhook deliveries stored");
        DeliveriesSpooled = _meter.CreateCounter<long>("ava.whatsapp.deliveries.spooled", description: "Webhook deliveries stored in the spool because Postgres was unreachable");
        MessagesReceived = _meter.CreateCounter<long>("ava.whatsapp.messages.received", description: "Inbound messages processed, by type");
        MessagesDuplicate = _meter.CreateCounter<long>("ava.whatsapp.messages.duplicate", description: "Inbound messages seen again (same wamid) and ignored");
        RepliesSent = _meter.CreateCounter<long>("ava.whatsapp.replies.sent", description: "Replies accepted by the Graph API");
        SendFailures = _meter.CreateCounter<long>("ava.whatsapp.replies.failures", description: "Failed Graph API sends, by Meta error code and whether they will be retried");
        CacheLookups = _meter.CreateCounter<long>("ava.whatsapp.user_cache.lookups", description: "Linked-user cache lookups, by result");
        ProcessingLag = _meter.CreateHistogram<double>("ava.whatsapp.processing.lag", unit: "s", description: "Time from receiving a delivery to processing it");
        ProcessingBatchSize = _meter.CreateHistogram<int>("ava.whatsapp.processing.batch_size", unit: "{delivery}", description: "Deliveries processed in one transaction");
        SendBatchSize = _meter.CreateHistogram<int>("ava.whatsapp.sending.batch_size", unit: "{reply}", description: "Replies claimed at once by a sender");
        SendingPaused = _meter.CreateUpDownCounter<int>("ava.whatsapp.sending.paused", description: "1 while this instance's sending is paused because the Graph API refuses the access token, 0 otherwise");
        TokenChecks = _meter.CreateCounter<long>("ava.whatsapp.access_token.checks", description: "Checks of the access token against the Graph API, by outcome");
        ReadReceipts = _meter.CreateCounter<long>("ava.whatsapp.read_receipts", description: "Messages marked read with the typing indicator before their reply, by outcome");
        TurnsComposing = _meter.CreateUpDownCounter<int>("ava.whatsapp.turns.composing", unit: "{turn}", description: "Turns this instance is waiting on the responder for");
        TurnsEnded = _meter.CreateCounter<long>("ava.whatsapp.turns.ended", unit: "{turn}", description: "Turns ended, by status (answered, or failed with the fallback)");
        ResponderLatency = _meter.CreateHistogram<double>("ava.whatsapp.responder.duration", unit: "s", description: "How long the responder took to answer a turn, by outcome");
        ResponderFailures = _meter.CreateCounter<long>("ava.whatsapp.responder.failures", unit: "{call}", description: "Calls of the responder that brought no answer, by outcome (transient: asked again; refused)");
        MediaStored = _meter.CreateCounter<long>("ava.whatsapp.media.stored", unit: "{media}", description: "Media kept, by type");
        MediaBytesStored = _meter.CreateCounter<long>("ava.whatsapp.media.bytes_stored", unit: "By", description: "Bytes of media kept, by type");
        MediaDownloadsFailed = _meter.CreateCounter<long>("ava.whatsapp.media.downloads_failed", unit: "{download}", description: "Media downloads that kept nothing, by type and outcome (retried, failed, too_large)");
        _meter.CreateObservableGauge("ava.whatsapp.turns.waiting", () => TurnsWaiting, unit: "{turn}", description: "Turns waiting for the responder (all instances), as last counted");
    }

    /// <summary>The count <c>ava.whatsapp.turns.waiting</c> reports, refreshed by the composer.</summary>
    public long TurnsWaiting { get; set; }

    public Counter<long> DeliveriesReceived { get; }

    public Counter<long> DeliveriesSpooled { get; }

    public Counter<long> MessagesReceived { get; }

    public Counter<long> MessagesDuplicate { get; }

    public Counter<long> RepliesSent { get; }

    public Counter<long> SendFailures { get; }

    public Counter<long> CacheLookups { get; }

    public Histogram<double> ProcessingLag { get; }

    public Histogram<int> ProcessingBatchSize { get; }

    public Histogram<int> SendBatchSize { get; }

    public UpDownCounter<int> SendingPaused { get; }

    public Counter<long> TokenChecks { get; }

    public Counter<long> ReadReceipts { get; }

    public UpDownCounter<int> TurnsComposing { get; }

    public Counter<long> TurnsEnded { get; }

    public Histogram<double> ResponderLatency { get; }

    public Counter<long> ResponderFailures { get; }

    public Counter<long> MediaStored { get; }

    public Counter<long> MediaBytesStored { get; }

    public Counter<long> MediaDownloadsFailed { get; }

    public void Dispose() => _meter.Dispose();
}
