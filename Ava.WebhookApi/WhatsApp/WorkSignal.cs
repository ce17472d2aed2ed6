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
        // Already signalled: one wake-up covers all work made meanwhile. Looked at first because work is announced
        // per batch, thousands of times a second under load, and a thrown exception each time cost real CPU.
        if (_signal.CurrentCount > 0)
        {
            return;
        }

        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Another thread signalled between the look and the release.
        }
    }

    /// <returns>Whether a signal came before the timeout.</returns>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _signal.WaitAsync(timeout, cancellationToken);
}
