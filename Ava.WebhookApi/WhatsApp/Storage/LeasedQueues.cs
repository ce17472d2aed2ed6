using Ava.WebhookApi.WhatsApp.Claims;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>Deliveries to process: stored already claimed by this instance's inbox writer, or swept from the inbox.</summary>
internal sealed class InboxQueue(NpgsqlDataSource dataSource, DatabaseOutage outage, TimeProvider clock, IOptions<WhatsAppProcessingOptions> options)
    : LeasedQueue<ClaimedDelivery>(
        InboxTable.Name,
        (ids, tokens, lease, cancellationToken) => LeasedTable.RenewAsync(dataSource, InboxTable.Name, ids, tokens, lease, cancellationToken),
        () => options.Value.ProcessingBatchSize * options.Value.ProcessingConcurrency * 2,
        outage,
        clock,
        options);

/// <summary>Replies to send: handed over already claimed by the processor or the composer, or swept from the outbox.</summary>
internal sealed class OutboxQueue(NpgsqlDataSource dataSource, DatabaseOutage outage, TimeProvider clock, IOptions<WhatsAppProcessingOptions> options)
    : LeasedQueue<ClaimedReply>(
        OutboxTable.Name,
        (ids, tokens, lease, cancellationToken) => LeasedTable.RenewAsync(dataSource, OutboxTable.Name, ids, tokens, lease, cancellationToken),
        () => Math.Max(options.Value.SendBatchSize, options.Value.MaxConcurrentSends) * 2,
        outage,
        clock,
        options);

/// <summary>Turns to compose: swept from <c>conversation_turns</c>, a user's earliest first and one at a time.</summary>
/// <param name="capacity">How many turns this instance composes at once (the responder's setting, given where the services are added).</param>
internal sealed class TurnQueue(NpgsqlDataSource dataSource, DatabaseOutage outage, TimeProvider clock, IOptions<WhatsAppProcessingOptions> options, Func<int> capacity)
    : LeasedQueue<ClaimedTurn>(
        TurnsTable.Name,
        (ids, tokens, lease, cancellationToken) => LeasedTable.RenewAsync(dataSource, TurnsTable.Name, ids, tokens, lease, cancellationToken),
        capacity,
        outage,
        clock,
        options);
