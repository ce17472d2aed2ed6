using System.Text;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Receiving;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using static Ava.Tests.Unit.InboxSpoolTests;

namespace Ava.Tests.Unit;

/// <summary>
/// The drainer against damaged files while Postgres is away: acknowledged deliveries are kept, what cannot be read
/// is set aside, and the worker (and so the host) keeps running.
/// </summary>
public sealed class InboxSpoolDrainerTests : IDisposable
{
    /// <summary>Nothing listens on port 1: every connection is refused at once, as while Postgres is down.</summary>
    private const string UnreachablePostgres = "Host=127.0.0.1;Port=1;Username=ava;Database=ava;Timeout=1";

    private readonly SpoolDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Damaged_spool_files_are_set_aside_and_the_drainer_keeps_running()
    {
        var spool = _directory.NewSpool();
        var truncated = AppendOne(spool, Delivery("one", null), Delivery("two", null), Delivery("three", null));
        var cutInFirstRecord = AppendOne(spool, Delivery("cut inside its first record", null));
        TruncateBy(truncated, 2);
        TruncateTo(cutInFirstRecord, 6);
        var damagedBytes = File.ReadAllBytes(truncated);
        File.WriteAllBytes(Path.Combine(_directory.Path, "00000000000000000000-garbage.spool"), RandomBytes(1000, seed: 10));

        // Postgres is away, so this batch waits; it sorts last, since a round stops at the first batch Postgres fails.
        var waiting = Path.Combine(_directory.Path, "29991231235959999999-waiting.spool");
        File.Move(AppendOne(spool, Delivery("waits for postgres", null)), waiting);

        await using var dataSource = NpgsqlDataSource.Create(UnreachablePostgres);
        using var drainer = NewDrainer(dataSource, spool);
        await drainer.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            Assert.True(await EventuallyAsync(() => spool.QuarantinedCount == 3, TimeSpan.FromSeconds(10)));
            await Task.Delay(TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken);

            Assert.False(drainer.ExecuteTask!.IsCompleted, drainer.ExecuteTask.Exception?.ToString());
            Assert.Equal(damagedBytes, File.ReadAllBytes(Path.Combine(spool.QuarantineDirectory, Path.GetFileName(truncated))));
            var remaining = spool.Files().ToList();
            Assert.Contains(waiting, remaining);
            var salvaged = Assert.Single(remaining, file => file != waiting);
            using (var claim = spool.TryClaim(salvaged))
            {
                Assert.NotNull(claim);
                var contents = claim.Read();
                Assert.True(contents.IsComplete);
                Assert.Equal(["one", "two"], contents.Deliveries.Select(d => Encoding.UTF8.GetString(d.Body)));
            }

            var health = await drainer.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);
            Assert.Equal(HealthStatus.Degraded, health.Status);
            Assert.Contains("3 damaged spool files", health.Description, StringComparison.Ordinal);
        }
        finally
        {
            await drainer.StopAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task An_orphaned_write_is_settled_when_the_drainer_starts()
    {
        var spool = _directory.NewSpool();
        var published = AppendOne(spool, Delivery("acknowledged, but its rename was lost", null));
        var orphan = Path.ChangeExtension(published, ".tmp");
        File.Move(published, orphan);
        File.SetLastWriteTimeUtc(orphan, DateTime.UtcNow.AddMinutes(-5));

        await using var dataSource = NpgsqlDataSource.Create(UnreachablePostgres);
        using var drainer = NewDrainer(dataSource, spool);

        // The round settles the orphan, then finds Postgres away: the published batch waits for it.
        await Assert.ThrowsAsync<NpgsqlException>(() => drainer.DrainAsync(TestContext.Current.CancellationToken));

        Assert.False(File.Exists(orphan));
        Assert.Equal([published], spool.Files());
    }

    private InboxSpoolDrainer NewDrainer(NpgsqlDataSource dataSource, InboxSpool spool) =>
        new(dataSource, spool, new InboxQueue(dataSource, new DatabaseOutage(TimeProvider.System, _directory.Options(TimeSpan.FromMilliseconds(50))), TimeProvider.System, _directory.Options(TimeSpan.FromMilliseconds(50))), _directory.Options(TimeSpan.FromMilliseconds(50)), TimeProvider.System, NullLogger<InboxSpoolDrainer>.Instance);

    private static void TruncateBy(string file, int bytes)
    {
        using var stream = new FileStream(file, FileMode.Open);
        stream.SetLength(stream.Length - bytes);
    }

    private static void TruncateTo(string file, int length)
    {
        using var stream = new FileStream(file, FileMode.Open);
        stream.SetLength(length);
    }
}
