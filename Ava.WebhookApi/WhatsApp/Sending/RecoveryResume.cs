using Ava.WebhookApi.WhatsApp.Storage;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Sending;

/// <summary>
/// When the Graph API answers a business number again (see <see cref="GraphRecovery"/>), makes its replies that wait
/// out a backoff due at once and sweeps the outbox for them, instead of each waiting for its own retry time.
/// </summary>
/// <param name="logger">The send stage's: resuming is logged under the stage's name.</param>
internal sealed partial class RecoveryResume(NpgsqlDataSource dataSource, OutboxQueue outbox, TimeProvider clock, ILogger<ReplySender> logger)
{
    /// <summary>Replies made due at a time when the Graph API answers a number again: about a minute of sending at the top tier.</summary>
    private const int ResumeBatchSize = 50_000;

    /// <summary>Sends that failed just before the recovery are recorded a moment after it: they are resumed by a second pass.</summary>
    private static readonly TimeSpan s_secondResumeDelay = TimeSpan.FromSeconds(2);

    /// <summary>The Graph API answers this number again: its replies waiting out a backoff go now, at its pace.</summary>
    public async Task ResumeAsync(string phoneNumberId)
    {
        try
        {
            var resumed = await OutboxTable.ResumeAsync(dataSource, phoneNumberId, ResumeBatchSize, ReplyRetryPolicy.PairRateLimitCode, CancellationToken.None);
            await Task.Delay(s_secondResumeDelay, clock);
            resumed += await OutboxTable.ResumeAsync(dataSource, phoneNumberId, ResumeBatchSize, ReplyRetryPolicy.PairRateLimitCode, CancellationToken.None);
            LogResumed(logger, phoneNumberId, resumed);
            outbox.RequestSweep();
        }
        catch (Exception exception)
        {
            // Not resumed: the replies are still sent, when their own retry time comes.
            LogResumeFailed(logger, phoneNumberId, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The Graph API answers business number {PhoneNumberId} again: {Count} replies waiting for a retry go now")]
    private static partial void LogResumed(ILogger logger, string phoneNumberId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not resume the waiting replies of business number {PhoneNumberId}; they go at their own retry time")]
    private static partial void LogResumeFailed(ILogger logger, string phoneNumberId, Exception exception);
}
