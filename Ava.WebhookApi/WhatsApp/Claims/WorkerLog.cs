namespace Ava.WebhookApi.WhatsApp.Claims;

internal static partial class WorkerLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "Could not reach Postgres; the work waits and is retried")]
    public static partial void DatabaseUnavailable(ILogger logger, Exception exception);
}
