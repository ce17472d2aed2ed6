using System.Diagnostics;

namespace Ava.Benchmarks;

/// <summary>
/// What a load with media made of its media: waits (after every echo went out) until no download is pending, then
/// reports how much was kept, how fast, how long each waited, and what the stand-in served for it.
/// </summary>
public static class MediaLoadReport
{
    public static async Task AddAsync(BenchmarkReport report, BenchmarkDatabase database, GraphStandIn graph, TimeSpan timeout)
    {
        Console.WriteLine($"Waiting up to {timeout.TotalSeconds:F0} s for every media download to settle...");
        var waiting = Stopwatch.GetTimestamp();
        var media = await database.AccountMediaAsync();
        while (media.Pending > 0 && Stopwatch.GetElapsedTime(waiting) < timeout)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            media = await database.AccountMediaAsync();
        }

        var bytesPerSecond = media.Seconds > 0 ? media.StoredBytes / media.Seconds : double.NaN;
        report.Section("media: downloaded after the acknowledgement, kept in Postgres")
            .Row("media recorded (messages that carried it)", $"{media.Recorded:N0}", "media_recorded", media.Recorded)
            .Row("kept / still pending / failed or too large", $"{media.Stored:N0} / {media.Pending:N0} / {media.Given:N0}", "media_stored", media.Stored)
            .Figure("media_pending", media.Pending).Figure("media_given_up", media.Given)
            .Row("bytes kept", BenchmarkReport.Mebibytes(media.StoredBytes), "media_bytes_stored", media.StoredBytes)
            .Row("kept per second, first recorded to last kept", $"{bytesPerSecond / 1024 / 1024:F1} MiB/s ({BenchmarkReport.Decimal(media.Stored / media.Seconds)} media/s)",
                "media_bytes_per_second", bytesPerSecond)
            .Row("recorded → kept p50 / p99", $"{media.WaitP50Seconds:F2} / {media.WaitP99Seconds:F2} s")
            .Figure("media_wait_p50_s", media.WaitP50Seconds).Figure("media_wait_p99_s", media.WaitP99Seconds)
            .Row("chunks table on disk", BenchmarkReport.Mebibytes(media.OnDiskBytes), "media_on_disk_bytes", media.OnDiskBytes)
            .Row("Graph API: URL lookups / downloads served", $"{graph.MediaLookups:N0} / {graph.MediaDownloads:N0} ({BenchmarkReport.Mebibytes(graph.MediaBytesServed)})",
                "media_downloads_served", graph.MediaDownloads);
    }
}
