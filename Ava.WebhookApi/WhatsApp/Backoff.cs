namespace Ava.WebhookApi.WhatsApp;

/// <summary>Retry delays: exponential, with jitter so that many retries do not come back at the same moment.</summary>
internal static class Backoff
{
    /// <param name="attempt">1 for the first retry.</param>
    /// <returns>Between half and all of <c>baseDelay · 2^(attempt-1)</c>, capped at <paramref name="maxDelay"/>.</returns>
    public static TimeSpan Delay(int attempt, TimeSpan baseDelay, TimeSpan maxDelay, Random? random = null)
    {
        var ceiling = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30)));
        return TimeSpan.FromMilliseconds((ceiling / 2) + ((random ?? Random.Shared).NextDouble() * ceiling / 2));
    }
}
