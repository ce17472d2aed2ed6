using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>
/// Works through the outbox: claims due replies with a lease, sends them (many in flight), and records what Meta
/// said. Transient failures are retried with exponential backoff and jitter, honouring Retry-After; permanent
/// ones are recorded with Meta's code and title. The one window where a reply can repeat is a crash after Meta
/// accepted a send and before Ava recorded it (Meta offers no idempotency key): the lease then expires and the
/// reply is sent again. Recording is a single statement right after the answer to keep that window small.
/// </summary>
internal sealed partial class ReplySender(
    NpgsqlDataSource dataSource,
    GraphApiClient graph,
    OutboxSignal outboxSignal,
    WhatsAppTelemetry telemetry,
    IOptions<WhatsAppProcessingOptions> processingOptions,
    ILogger<ReplySender> logger) : ClaimingWorker<ReplySender.ClaimedReply>(outboxSignal, processingOptions, logger)
{
    protected override int MaxParallelism => Settings.MaxConcurrentSends;

    protected override async Task<IReadOnlyList<ClaimedReply>> ClaimAsync(CancellationToken cancellationToken)
    {
        await using var claim = dataSource.CreateCommand(
            """
            UPDATE outbound_replies r
            SET locked_until = now() + $1, attempts = r.attempts + 1
            WHERE r.id IN (
                SELECT id FROM outbound_replies
                WHERE status = 'pending' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
                ORDER BY next_attempt_at, id
                LIMIT $2
                FOR UPDATE SKIP LOCKED)
            RETURNING r.id, r.phone_number_id, r.to_phone, r.body, r.attempts, r.trace_parent
            """);
        claim.Parameters.Add(new NpgsqlParameter { Value = Settings.ClaimLease });
        claim.Parameters.Add(new NpgsqlParameter { Value = Settings.MaxConcurrentSends * 2 });

        var claimed = new List<ClaimedReply>();
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new ClaimedReply(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetString(5)));
        }

        return claimed;
    }

    protected override async Task ProcessAsync(ClaimedReply reply, CancellationToken cancellationToken)
    {
        // Sending continues the trace of the message being answered.
        ActivityContext.TryParse(reply.TraceParent, null, out var processedIn);
        using var activity = WhatsAppTelemetry.ActivitySource.StartActivity("graph send", ActivityKind.Internal, processedIn);
        activity?.SetTag("ava.reply.id", reply.Id);
        activity?.SetTag("ava.reply.attempt", reply.Attempts);

        var result = await graph.SendTextAsync(reply.PhoneNumberId, reply.ToPhone, reply.Body, cancellationToken);
        activity?.SetTag("ava.reply.outcome", result.Outcome.ToString());

        try
        {
            switch (result.Outcome)
            {
                case GraphSendOutcome.Accepted:
                    await RecordSentAsync(reply, result.Wamid!);
                    telemetry.RepliesSent.Add(1);
                    break;

                case GraphSendOutcome.Transient when reply.Attempts < Settings.MaxSendAttempts:
                    var delay = RetryDelay(reply.Attempts, result.RetryAfter);
                    LogWillRetry(logger, reply.Id, reply.Attempts, result.ErrorCode, result.ErrorTitle, delay);
                    CountFailure(result, retried: true);
                    await RecordRetryAsync(reply, result, delay);
                    break;

                default:
                    activity?.SetStatus(ActivityStatusCode.Error, result.ErrorTitle);
                    LogFailed(logger, reply.Id, reply.Attempts, result.ErrorCode, result.ErrorTitle);
                    CountFailure(result, retried: false);
                    await RecordFailedAsync(reply, result);
                    break;
            }
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            // The send happened but is not recorded; the lease expires and the reply is tried again then.
            WorkerLog.DatabaseUnavailable(logger, exception);
        }
    }

    /// <summary>Exponential backoff with full jitter, never sooner than Meta's Retry-After.</summary>
    private TimeSpan RetryDelay(int attempt, TimeSpan? retryAfter)
    {
        var settings = Settings;
        var ceiling = Math.Min(settings.MaxRetryDelay.TotalMilliseconds, settings.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        var backoff = TimeSpan.FromMilliseconds((ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2));
        return retryAfter is { } wait && wait > backoff ? wait : backoff;
    }

    private async Task RecordSentAsync(ClaimedReply reply, string wamid)
    {
        await using var record = dataSource.CreateCommand(
            """
            WITH sent AS (
                UPDATE outbound_replies
                SET status = 'sent', wamid = $2, sent_at = now(), locked_until = NULL, error_code = NULL, error_title = NULL
                WHERE id = $1
                RETURNING message_id)
            UPDATE messages SET external_id = $2 WHERE id = (SELECT message_id FROM sent)
            """);
        record.Parameters.Add(new NpgsqlParameter { Value = reply.Id });
        record.Parameters.Add(new NpgsqlParameter { Value = wamid });
        await record.ExecuteNonQueryAsync(CancellationToken.None);
    }

    private async Task RecordRetryAsync(ClaimedReply reply, GraphSendResult result, TimeSpan delay)
    {
        await using var record = dataSource.CreateCommand(
            "UPDATE outbound_replies SET next_attempt_at = now() + $2, locked_until = NULL, error_code = $3, error_title = $4 WHERE id = $1");
        record.Parameters.Add(new NpgsqlParameter { Value = reply.Id });
        record.Parameters.Add(new NpgsqlParameter { Value = delay });
        record.Parameters.Add(new NpgsqlParameter { Value = (object?)result.ErrorCode ?? DBNull.Value });
        record.Parameters.Add(new NpgsqlParameter { Value = (object?)result.ErrorTitle ?? DBNull.Value });
        await record.ExecuteNonQueryAsync(CancellationToken.None);
        outboxSignal.Notify();
    }

    private async Task RecordFailedAsync(ClaimedReply reply, GraphSendResult result)
    {
        await using var record = dataSource.CreateCommand(
            "UPDATE outbound_replies SET status = 'failed', locked_until = NULL, error_code = $2, error_title = $3 WHERE id = $1");
        record.Parameters.Add(new NpgsqlParameter { Value = reply.Id });
        record.Parameters.Add(new NpgsqlParameter { Value = (object?)result.ErrorCode ?? DBNull.Value });
        record.Parameters.Add(new NpgsqlParameter { Value = (object?)result.ErrorTitle ?? DBNull.Value });
        await record.ExecuteNonQueryAsync(CancellationToken.None);
    }

    private void CountFailure(GraphSendResult result, bool retried) => telemetry.SendFailures.Add(
        1,
        new KeyValuePair<string, object?>("meta.error_code", result.ErrorCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"),
        new KeyValuePair<string, object?>("retried", retried));

    internal sealed record ClaimedReply(long Id, string PhoneNumberId, string ToPhone, string Body, int Attempts, string? TraceParent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reply {ReplyId} not accepted (attempt {Attempt}, Meta code {ErrorCode}: {ErrorTitle}); retrying in {Delay}")]
    private static partial void LogWillRetry(ILogger logger, long replyId, int attempt, int? errorCode, string? errorTitle, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reply {ReplyId} failed for good after {Attempt} attempt(s): Meta code {ErrorCode}: {ErrorTitle}")]
    private static partial void LogFailed(ILogger logger, long replyId, int attempt, int? errorCode, string? errorTitle);
}
