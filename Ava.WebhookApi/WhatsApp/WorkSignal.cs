namespace Ava.WebhookApi.WhatsApp;

/// <summary>
/// Wakes a background worker as soon as this process has made work for it, instead of waiting for its next poll.
/// Polling still finds work made by other instances.
/// </summary>
internal abstract class WorkSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one wake-up covers all work made meanwhile.
        }
    }

    /// <returns>Whether a signal came before the timeout.</returns>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _signal.WaitAsync(timeout, cancellationToken);
}
