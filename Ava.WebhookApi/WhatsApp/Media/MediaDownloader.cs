using System.Collections.Concurrent;
using System.Diagnostics;
using Ava.Data.Media;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ava.WebhookApi.WhatsApp.Media;

/// <summary>
/// The download stage, beside composing and sending: claims the media linked users sent, fetches each from Meta (a few
/// at a time, never inside the webhook's request), and keeps its bytes in the media store in the transaction that
/// records it stored. Failed downloads are tried again with backoff for as long as Meta's media id lives.
/// </summary>
/// <remarks>
/// A download's claim is renewed while it runs; one whose holder died is taken over a lease later and fetched again.
/// Recording it stored matches its claim, in the transaction that writes its bytes, so that media is kept once.
/// </remarks>
internal sealed partial class MediaDownloader(
    NpgsqlDataSource dataSource,
    MediaQueue queue,
    MediaFetcher fetcher,
    IMediaStore store,
    MediaWritePacer writePacer,
    WhatsAppTelemetry telemetry,
    TimeProvider clock,
    IOptions<MediaOptions> options,
    IOptions<WhatsAppProcessingOptions> processing,
    ILogger<MediaDownloader> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<Task, bool> _downloading = new();

    private MediaOptions Settings => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await TakeWorkAsync(stoppingToken);
        }
        finally
        {
            // Stopping: downloads in flight are abandoned and handed back (fetching again is safe).
            queue.Close();
            await Task.WhenAll(_downloading.Keys);
        }
    }

    private async Task TakeWorkAsync(CancellationToken stoppingToken)
    {
        var poll = processing.Value.PollInterval;
        var nextSweep = clock.GetTimestamp();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (queue.TakeSweepRequest() || clock.GetTimestamp() >= nextSweep)
                {
                    var sweep = await queue.SweepAsync(
                        Settings.MaxConcurrentDownloads,
                        minimum: 1,
                        (token, limit, lease, takeOver, cancellationToken) => MediaTable.ClaimAsync(dataSource, token, limit, lease, takeOver, cancellationToken),
                        exception => WorkerLog.DatabaseUnavailable(logger, exception));
                    foreach (var media in sweep.Rows)
                    {
                        Start(media, stoppingToken);
                    }

                    nextSweep = clock.GetTimestamp() + (sweep.Filled(Settings.MaxConcurrentDownloads) ? 0 : (long)(poll.TotalSeconds * clock.TimestampFrequency));
                    if (sweep.Result == SweepResult.NoRoom)
                    {
                        await queue.RoomFreed.WaitAsync(poll, stoppingToken);
                        continue;
                    }

                    if (sweep.Rows.Count > 0)
                    {
                        continue;
                    }
                }

                var untilSweep = clock.GetElapsedTime(clock.GetTimestamp(), nextSweep);
                await queue.Arrived.WaitAsync(untilSweep > TimeSpan.Zero ? untilSweep : TimeSpan.Zero, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // Nothing may stop the worker: log, back off, carry on.
                LogWorkerFailed(logger, exception);
                await Task.Delay(poll, clock, stoppingToken);
            }
        }
    }

    private void Start(ClaimedMedia media, CancellationToken stoppingToken)
    {
        var download = DownloadAsync(media, stoppingToken);
        _downloading[download] = true;
        _ = download.ContinueWith(done => _downloading.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task DownloadAsync(ClaimedMedia media, CancellationToken stoppingToken)
    {
        // The download continues the trace of the message that carried the media.
        ActivityContext.TryParse(media.TraceParent, null, out var processedIn);
        using var activity = WhatsAppTelemetry.ActivitySource.StartActivity("download media", ActivityKind.Internal, processedIn);
        activity?.SetTag("ava.media.id", media.Id);
        activity?.SetTag("ava.media.type", media.Type);
        activity?.SetTag("ava.media.attempt", media.Attempts + 1);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(Settings.DownloadTimeout);
        try
        {
            var outcome = MediaDownloadPolicy.Expired(media, clock.GetUtcNow());
            if (outcome is null)
            {
                await using var fetch = await fetcher.FetchAsync(media, timeout.Token);
                activity?.SetTag("ava.media.outcome", fetch.Outcome.ToString());
                outcome = fetch.Outcome == MediaFetchOutcome.Fetched
                    ? await KeepAsync(media, fetch, stoppingToken)
                    : MediaDownloadPolicy.Decide(media, fetch, clock.GetUtcNow(), Settings);
            }

            if (outcome is not null)
            {
                await RecordAsync(media, outcome, activity);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await TryRecordAsync(media, new MediaOutcome(MediaStatus.Pending, Error: null, TimeSpan.Zero, Attempted: false));
        }
        catch (Exception exception) when (Outages.IsOutage(exception))
        {
            LogOutage(logger, media.Id, exception);
            await TryRecordAsync(media, new MediaOutcome(MediaStatus.Pending, Error: null, processing.Value.RetryBaseDelay, Attempted: false));
        }
        catch (Exception exception)
        {
            activity?.AddException(exception);
            LogDownloadFailed(logger, media.Id, exception);
            await TryRecordAsync(media, new MediaOutcome(
                MediaStatus.Pending, exception.Message, Backoff.Delay(media.Attempts + 1, Settings.RetryBaseDelay, Settings.MaxRetryDelay)));
        }
        finally
        {
            queue.Finished([media]);
        }
    }

    /// <summary>Writes the fetched bytes and records the media stored, in one transaction that holds only while the claim does.</summary>
    /// <returns>Null: kept, or taken over by another instance (which keeps it).</returns>
    private async Task<MediaOutcome?> KeepAsync(ClaimedMedia media, MediaFetch fetch, CancellationToken stoppingToken)
    {
        using var turn = await writePacer.WaitForTurnAsync(stoppingToken);
        await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
        await using var transaction = await connection.BeginTransactionAsync(stoppingToken);
        var content = await store.WriteAsync(media.Id, media.UserId, writePacer.Pace(fetch.Content!), transaction, stoppingToken);
        if (!await MediaTable.MarkStoredAsync(transaction, media, content, fetch.MimeType, stoppingToken))
        {
            // Disposing the transaction rolls the bytes back: the new holder keeps them, once.
            LogLostClaim(logger, media.Id);
            return null;
        }

        await transaction.CommitAsync(stoppingToken);
        telemetry.MediaStored.Add(1, new KeyValuePair<string, object?>("type", media.Type));
        telemetry.MediaBytesStored.Add(content.Size, new KeyValuePair<string, object?>("type", media.Type));
        LogStored(logger, media.Id, media.Type, content.Size);
        return null;
    }

    private async Task RecordAsync(ClaimedMedia media, MediaOutcome outcome, Activity? activity)
    {
        var reason = outcome.Status switch
        {
            MediaStatus.Pending when !outcome.Attempted => null,
            MediaStatus.Pending => "retried",
            MediaStatus.TooLarge => "too_large",
            _ => "failed",
        };
        if (reason is not null)
        {
            telemetry.MediaDownloadsFailed.Add(1, new KeyValuePair<string, object?>("type", media.Type), new KeyValuePair<string, object?>("outcome", reason));
        }

        switch (outcome.Status)
        {
            case MediaStatus.Pending when outcome.Attempted:
                LogWillRetry(logger, media.Id, media.Attempts + 1, outcome.Error, outcome.RetryIn!.Value);
                break;
            case MediaStatus.Failed:
                activity?.SetStatus(ActivityStatusCode.Error, outcome.Error);
                LogFailed(logger, media.Id, media.Attempts + 1, outcome.Error);
                break;
            case MediaStatus.TooLarge:
                LogTooLarge(logger, media.Id, media.Type, outcome.Error);
                break;
        }

        await MediaTable.RecordAsync(dataSource, media, outcome, CancellationToken.None);
    }

    private async Task TryRecordAsync(ClaimedMedia media, MediaOutcome outcome)
    {
        try
        {
            await MediaTable.RecordAsync(dataSource, media, outcome, CancellationToken.None);
        }
        catch (Exception exception) when (Outages.IsOutage(exception))
        {
            // Postgres is away: the claim runs out and the media is claimed again then.
            WorkerLog.DatabaseUnavailable(logger, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Media {MediaId} ({Type}, {Size} bytes) is kept")]
    private static partial void LogStored(ILogger logger, long mediaId, string type, long size);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Media {MediaId} was not downloaded (attempt {Attempt}: {Error}); trying again in {Delay}")]
    private static partial void LogWillRetry(ILogger logger, long mediaId, int attempt, string? error, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Media {MediaId} failed after {Attempt} attempt(s): {Error}")]
    private static partial void LogFailed(ILogger logger, long mediaId, int attempt, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Media {MediaId} ({Type}) is too large to keep: {Error}; its metadata is kept")]
    private static partial void LogTooLarge(ILogger logger, long mediaId, string type, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Media {MediaId} waits for Postgres to be back; it does not count as a failure")]
    private static partial void LogOutage(ILogger logger, long mediaId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Downloading media {MediaId} failed; it will be tried again")]
    private static partial void LogDownloadFailed(ILogger logger, long mediaId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Media {MediaId} was taken over by another instance before it was kept; that instance keeps it")]
    private static partial void LogLostClaim(ILogger logger, long mediaId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The media downloader hit an unexpected error; it carries on")]
    private static partial void LogWorkerFailed(ILogger logger, Exception exception);
}
