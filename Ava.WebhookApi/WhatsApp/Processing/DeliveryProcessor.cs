using System.Diagnostics;
using Ava.Data.Messages;
using Ava.Data.WhatsApp;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Ava.WebhookApi.WhatsApp.Processing;

/// <summary>
/// Works through the inbox: claims pending deliveries (SKIP LOCKED, with a lease, so any number of instances share
/// the work and a crashed one's claims are taken over), then handles every message and status in one transaction
/// per delivery. The unique wamid of <c>inbound_messages</c> is the exactly-once gate: a message seen again, in a
/// retried delivery or on another instance, adds nothing.
/// </summary>
internal sealed partial class DeliveryProcessor(
    NpgsqlDataSource dataSource,
    LinkedUserLookup linkedUsers,
    PhoneLinking phoneLinking,
    InboxSignal inboxSignal,
    OutboxSignal outboxSignal,
    WhatsAppTelemetry telemetry,
    TimeProvider clock,
    IOptions<WhatsAppOptions> whatsApp,
    IOptions<WhatsAppProcessingOptions> processingOptions,
    ILogger<DeliveryProcessor> logger) : ClaimingWorker<DeliveryProcessor.ClaimedDelivery>(inboxSignal, processingOptions, logger)
{
    private const int ClaimBatchSize = 16;

    protected override int MaxParallelism => 4;

    protected override async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(CancellationToken cancellationToken)
    {
        await using var claim = dataSource.CreateCommand(
            """
            UPDATE inbound_deliveries d
            SET locked_until = now() + $1, attempts = d.attempts + 1
            WHERE d.id IN (
                SELECT id FROM inbound_deliveries
                WHERE processed_at IS NULL AND (locked_until IS NULL OR locked_until < now())
                ORDER BY id
                LIMIT $2
                FOR UPDATE SKIP LOCKED)
            RETURNING d.id, d.body, d.trace_parent, d.received_at, d.attempts
            """);
        claim.Parameters.Add(new NpgsqlParameter { Value = Settings.ClaimLease });
        claim.Parameters.Add(new NpgsqlParameter { Value = ClaimBatchSize });

        var claimed = new List<ClaimedDelivery>();
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new ClaimedDelivery(
                reader.GetInt64(0),
                reader.GetFieldValue<byte[]>(1),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.GetFieldValue<DateTimeOffset>(3),
                reader.GetInt32(4)));
        }

        return claimed.OrderBy(d => d.Id).ToList();
    }

    protected override async Task ProcessAsync(ClaimedDelivery delivery, CancellationToken cancellationToken)
    {
        // Processing continues the trace of the request that received the delivery.
        ActivityContext.TryParse(delivery.TraceParent, null, out var receivedIn);
        using var activity = WhatsAppTelemetry.ActivitySource.StartActivity("process delivery", ActivityKind.Consumer, receivedIn);
        activity?.SetTag("ava.delivery.id", delivery.Id);
        activity?.SetTag("ava.delivery.attempt", delivery.Attempts);
        telemetry.ProcessingLag.Record((clock.GetUtcNow() - delivery.ReceivedAt).TotalSeconds);

        try
        {
            var contents = NotificationReader.Read(delivery.Body);
            if (contents is null)
            {
                LogUnprocessable(logger, delivery.Id, delivery.Body.Length);
                await FinishAsync(delivery.Id, InboundOutcome.Unprocessable, "Not a WhatsApp Business Account notification", cancellationToken);
                return;
            }

            if (contents.Skipped > 0)
            {
                LogSkippedParts(logger, delivery.Id, contents.Skipped);
            }

            var phones = contents.Messages.Select(m => m.FromPhone).OfType<string>().ToHashSet();
            var users = await linkedUsers.FindAsync(phones, cancellationToken);
            var links = await phoneLinking.ResolveAsync(contents.Messages);
            var (replies, applied) = await StoreAsync(delivery, contents, users, links, cancellationToken);
            if (applied.Count > 0)
            {
                await phoneLinking.AfterCommitAsync(applied);
            }

            activity?.SetTag("ava.delivery.messages", contents.Messages.Count);
            activity?.SetTag("ava.delivery.statuses", contents.Statuses.Count);
            if (replies > 0)
            {
                outboxSignal.Notify();
            }
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            activity?.AddException(exception);
            activity?.SetStatus(ActivityStatusCode.Error);
            await RecordFailureAsync(delivery, exception);
        }
    }

    /// <returns>How many replies were put in the outbox, and the LINK attempts made.</returns>
    private async Task<(int Replies, List<(LinkAttempt Attempt, string? PreviousPhone)> Links)> StoreAsync(
        ClaimedDelivery delivery,
        NotificationContents contents,
        IReadOnlyDictionary<string, Guid?> users,
        IReadOnlyDictionary<string, LinkAttempt> links,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var newWamids = await InsertInboundMessagesAsync(connection, transaction, delivery.Id, contents.Messages, users, cancellationToken);

        var history = new List<Message>();
        var outbox = new List<(IncomingMessage Inbound, Guid? UserId, Guid? MessageId, string Body)>();
        var applied = new List<(LinkAttempt Attempt, string? PreviousPhone)>();
        foreach (var message in contents.Messages.DistinctBy(m => m.Wamid).Where(m => newWamids.Contains(m.Wamid)))
        {
            var userId = message.FromPhone is { } phone ? users.GetValueOrDefault(phone) : null;
            var link = links.GetValueOrDefault(message.Wamid);
            if (link is { UserId: { } linkingUser })
            {
                var previousPhone = await PhoneLinking.LinkAsync(connection, transaction, linkingUser, link.Phone, cancellationToken);
                userId = linkingUser;
                applied.Add((link, previousPhone));
            }
            else if (link is not null)
            {
                applied.Add((link, null));
            }

            var reply = ReplyPolicy.ReplyTo(message, userId is not null, whatsApp.Value.RegistrationMessage, link);
            telemetry.MessagesReceived.Add(1, new KeyValuePair<string, object?>("type", message.Type));

            Guid? replyMessageId = null;
            if (userId is { } user)
            {
                var receivedAt = message.SentAt ?? clock.GetUtcNow();
                history.Add(NewMessage(user, MessageRole.User, message.Content, receivedAt, message.Wamid));
                if (reply is not null)
                {
                    // After the user's message even when Meta's clock runs ahead of ours.
                    var repliedAt = Max(clock.GetUtcNow(), receivedAt.AddTicks(10));
                    var assistant = NewMessage(user, MessageRole.Assistant, reply, repliedAt, externalId: null);
                    history.Add(assistant);
                    replyMessageId = assistant.Id;
                }
            }

            if (reply is not null)
            {
                outbox.Add((message, userId, replyMessageId, reply));
            }
        }

        telemetry.MessagesDuplicate.Add(contents.Messages.Count - newWamids.Count);

        await InsertHistoryAsync(connection, transaction, history, cancellationToken);
        await InsertRepliesAsync(connection, transaction, outbox, cancellationToken);
        await InsertStatusesAsync(connection, transaction, contents.Statuses, cancellationToken);

        await using (var finish = new NpgsqlCommand(
            "UPDATE inbound_deliveries SET processed_at = now(), outcome = 'processed', locked_until = NULL, error = NULL WHERE id = $1",
            connection,
            transaction))
        {
            finish.Parameters.Add(new NpgsqlParameter { Value = delivery.Id });
            await finish.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return (outbox.Count, applied);
    }

    private static async Task<HashSet<string>> InsertInboundMessagesAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        long deliveryId,
        IReadOnlyList<IncomingMessage> messages,
        IReadOnlyDictionary<string, Guid?> users,
        CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
        {
            return [];
        }

        // One row per wamid even when a delivery repeats a message within itself.
        var distinct = messages.DistinctBy(m => m.Wamid).ToList();
        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO inbound_messages (wamid, delivery_id, phone_number_id, from_phone, from_user_id, type, content, sent_at, user_id)
            SELECT m.wamid, $2, m.phone_number_id, m.from_phone, m.from_user_id, m.type, m.content, m.sent_at, m.user_id
            FROM unnest($1::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::uuid[])
                AS m(wamid, phone_number_id, from_phone, from_user_id, type, content, sent_at, user_id)
            ON CONFLICT (wamid) DO NOTHING
            RETURNING wamid
            """,
            connection,
            transaction);
        insert.Parameters.Add(TextArray(distinct.Select(m => m.Wamid)));
        insert.Parameters.Add(new NpgsqlParameter { Value = deliveryId });
        insert.Parameters.Add(TextArray(distinct.Select(m => m.PhoneNumberId)));
        insert.Parameters.Add(TextArray(distinct.Select(m => m.FromPhone)));
        insert.Parameters.Add(TextArray(distinct.Select(m => m.FromUserId)));
        insert.Parameters.Add(TextArray(distinct.Select(m => m.Type)));
        insert.Parameters.Add(TextArray(distinct.Select(m => m.Content)));
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, Value = distinct.Select(m => m.SentAt).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid, Value = distinct.Select(m => m.FromPhone is { } p ? users.GetValueOrDefault(p) : null).ToArray() });

        var inserted = new HashSet<string>();
        await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            inserted.Add(reader.GetString(0));
        }

        return inserted;
    }

    private static async Task InsertHistoryAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<Message> history, CancellationToken cancellationToken)
    {
        if (history.Count == 0)
        {
            return;
        }

        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO messages (id, user_id, avatar_id, channel, role, content, created_at, external_id)
            SELECT m.id, m.user_id, NULL, 'whatsapp', m.role, m.content, m.created_at, m.external_id
            FROM unnest($1::uuid[], $2::uuid[], $3::message_role[], $4::text[], $5::timestamptz[], $6::text[])
                AS m(id, user_id, role, content, created_at, external_id)
            """,
            connection,
            transaction);
        insert.Parameters.Add(new NpgsqlParameter { Value = history.Select(m => m.Id).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = history.Select(m => m.UserId).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = history.Select(m => m.Role).ToArray() });
        insert.Parameters.Add(TextArray(history.Select(m => m.Content)));
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, Value = history.Select(m => m.CreatedAt).ToArray() });
        insert.Parameters.Add(TextArray(history.Select(m => m.ExternalId)));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task InsertRepliesAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        List<(IncomingMessage Inbound, Guid? UserId, Guid? MessageId, string Body)> outbox,
        CancellationToken cancellationToken)
    {
        if (outbox.Count == 0)
        {
            return;
        }

        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO outbound_replies (inbound_wamid, user_id, message_id, phone_number_id, to_phone, body, status, trace_parent)
            SELECT r.inbound_wamid, r.user_id, r.message_id, r.phone_number_id, r.to_phone, r.body, 'pending', $7
            FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[])
                AS r(inbound_wamid, user_id, message_id, phone_number_id, to_phone, body)
            ON CONFLICT (inbound_wamid) DO NOTHING
            """,
            connection,
            transaction);
        insert.Parameters.Add(TextArray(outbox.Select(r => r.Inbound.Wamid)));
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid, Value = outbox.Select(r => r.UserId).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid, Value = outbox.Select(r => r.MessageId).ToArray() });
        insert.Parameters.Add(TextArray(outbox.Select(r => r.Inbound.PhoneNumberId)));
        insert.Parameters.Add(TextArray(outbox.Select(r => r.Inbound.FromPhone)));
        insert.Parameters.Add(TextArray(outbox.Select(r => r.Body)));
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)Activity.Current?.Id ?? DBNull.Value });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task InsertStatusesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<IncomingStatus> statuses, CancellationToken cancellationToken)
    {
        if (statuses.Count == 0)
        {
            return;
        }

        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO delivery_status_events (wamid, status, occurred_at, recipient_id, error_code, error_title)
            SELECT * FROM unnest($1::text[], $2::delivery_status[], $3::timestamptz[], $4::text[], $5::integer[], $6::text[])
            ON CONFLICT (wamid, status) DO NOTHING
            """,
            connection,
            transaction);
        insert.Parameters.Add(TextArray(statuses.Select(s => s.Wamid)));
        insert.Parameters.Add(new NpgsqlParameter { Value = statuses.Select(s => s.Status).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, Value = statuses.Select(s => s.OccurredAt).ToArray() });
        insert.Parameters.Add(TextArray(statuses.Select(s => s.RecipientId)));
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer, Value = statuses.Select(s => s.ErrorCode).ToArray() });
        insert.Parameters.Add(TextArray(statuses.Select(s => s.ErrorTitle)));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task FinishAsync(long deliveryId, InboundOutcome outcome, string? error, CancellationToken cancellationToken)
    {
        await using var finish = dataSource.CreateCommand(
            "UPDATE inbound_deliveries SET processed_at = now(), outcome = $2, locked_until = NULL, error = $3 WHERE id = $1");
        finish.Parameters.Add(new NpgsqlParameter { Value = deliveryId });
        finish.Parameters.Add(new NpgsqlParameter { Value = outcome });
        finish.Parameters.Add(new NpgsqlParameter { Value = (object?)error ?? DBNull.Value });
        await finish.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The delivery stays in the inbox and is tried again after a growing delay; after too many attempts it is set
    /// aside as failed, with its error, for a person to look at.
    /// </summary>
    private async Task RecordFailureAsync(ClaimedDelivery delivery, Exception exception)
    {
        var givingUp = delivery.Attempts >= Settings.MaxProcessingAttempts;
        if (givingUp)
        {
            LogGaveUp(logger, delivery.Id, delivery.Attempts, exception);
        }
        else
        {
            LogWillRetry(logger, delivery.Id, delivery.Attempts, exception);
        }

        try
        {
            if (givingUp)
            {
                await FinishAsync(delivery.Id, InboundOutcome.Failed, exception.Message, CancellationToken.None);
                return;
            }

            await using var retry = dataSource.CreateCommand(
                "UPDATE inbound_deliveries SET locked_until = now() + $2, error = $3 WHERE id = $1");
            retry.Parameters.Add(new NpgsqlParameter { Value = delivery.Id });
            retry.Parameters.Add(new NpgsqlParameter { Value = TimeSpan.FromSeconds(Math.Min(300, Math.Pow(2, delivery.Attempts))) });
            retry.Parameters.Add(new NpgsqlParameter { Value = exception.Message });
            await retry.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception recordException) when (recordException is NpgsqlException or TimeoutException)
        {
            // Postgres is down: the claim's lease expires and the delivery is claimed again then.
            WorkerLog.DatabaseUnavailable(logger, recordException);
        }
    }

    private static Message NewMessage(Guid userId, MessageRole role, string content, DateTimeOffset createdAt, string? externalId) => new()
    {
        Id = Guid.CreateVersion7(createdAt),
        UserId = userId,
        Channel = MessageChannel.WhatsApp,
        Role = role,
        Content = content,
        CreatedAt = createdAt,
        ExternalId = externalId,
    };

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static NpgsqlParameter TextArray(IEnumerable<string?> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = values.ToArray() };

    internal sealed record ClaimedDelivery(long Id, byte[] Body, string? TraceParent, DateTimeOffset ReceivedAt, int Attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} ({Length} bytes) is not a WhatsApp notification; kept as unprocessable")]
    private static partial void LogUnprocessable(ILogger logger, long deliveryId, int length);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId}: skipped {Count} message(s) or status(es) without an id or with an unknown status")]
    private static partial void LogSkippedParts(ILogger logger, long deliveryId, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Processing delivery {DeliveryId} failed (attempt {Attempt}); it will be retried")]
    private static partial void LogWillRetry(ILogger logger, long deliveryId, int attempt, Exception exception);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Processing delivery {DeliveryId} failed {Attempt} times; set aside as failed")]
    private static partial void LogGaveUp(ILogger logger, long deliveryId, int attempt, Exception exception);
}
