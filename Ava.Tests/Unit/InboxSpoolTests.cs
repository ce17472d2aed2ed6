using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Model;
using Ava.WebhookApi.WhatsApp.Receiving;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Ava.Tests.Unit;

/// <summary>
/// The spool as the webhook instances sharing its directory see it: a published batch is whole, it is drained by
/// exactly one claimant at a time, and a claimant that dies lets go at once, whatever its process id.
/// </summary>
public sealed class InboxSpoolTests : IDisposable
{
    private readonly SpoolDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void A_published_batch_reads_back_whole_and_leaves_no_temporary_file()
    {
        var spool = _directory.NewSpool();
        var deliveries = new[] { Delivery("first", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), Delivery("second", null) };

        spool.Append(deliveries);

        var file = Assert.Single(spool.Files());
        Assert.Empty(Directory.EnumerateFiles(_directory.Path, "*.tmp"));
        Assert.False(spool.IsEmpty);
        using var claim = spool.TryClaim(file);
        Assert.NotNull(claim);
        var contents = claim.Read();
        Assert.True(contents.IsComplete);
        AssertSame(deliveries, contents.Deliveries);
    }

    [Fact]
    public void A_claimed_batch_is_refused_to_every_other_claimant_until_it_is_let_go()
    {
        var first = _directory.NewSpool();
        var second = _directory.NewSpool();
        first.Append([Delivery("hello", null)]);
        var file = Assert.Single(first.Files());

        using (var claim = first.TryClaim(file))
        {
            Assert.NotNull(claim);
            Assert.Null(second.TryClaim(file));
            Assert.Null(first.TryClaim(file));
        }

        using var again = second.TryClaim(file);
        Assert.NotNull(again);
        Assert.Single(again.Read().Deliveries);
    }

    [Fact]
    public void A_completed_batch_is_gone_for_everyone()
    {
        var first = _directory.NewSpool();
        var second = _directory.NewSpool();
        first.Append([Delivery("hello", null)]);
        var file = Assert.Single(first.Files());

        using (var claim = first.TryClaim(file))
        {
            Assert.NotNull(claim);
            claim.Complete();
            Assert.Null(second.TryClaim(file));
        }

        Assert.Null(second.TryClaim(file));
        Assert.True(second.IsEmpty);
    }

    [Fact]
    public async Task Two_drainers_sharing_a_directory_never_take_the_same_batch()
    {
        var spools = new[] { _directory.NewSpool(), _directory.NewSpool() };
        const int batches = 300;
        for (var i = 0; i < batches; i++)
        {
            spools[i % 2].Append([Delivery($"delivery {i}", null)]);
        }

        var taken = new ConcurrentBag<string>();
        using var start = new Barrier(spools.Length);
        await Task.WhenAll(spools.Select(spool => Task.Run(() =>
        {
            start.SignalAndWait(TestContext.Current.CancellationToken);
            foreach (var file in spool.Files())
            {
                using var claim = spool.TryClaim(file);
                if (claim is null)
                {
                    continue;
                }

                foreach (var delivery in claim.Read().Deliveries)
                {
                    taken.Add(Encoding.UTF8.GetString(delivery.Body));
                }

                claim.Complete();
            }
        })));

        Assert.Equal(batches, taken.Count);
        Assert.Equal(batches, taken.Distinct().Count());
        Assert.True(spools[0].IsEmpty);
    }

    [Fact]
    public void A_restarted_instance_with_the_same_process_id_drains_what_its_previous_life_held()
    {
        var previousLife = _directory.NewSpool();
        var heldWhenItDied = previousLife.TryClaim(AppendOne(previousLife, Delivery("claimed before the crash", null)));
        Assert.NotNull(heldWhenItDied);

        // The earlier scheme named its claims after the claimant's pid, which a restarted container has again.
        var earlierScheme = AppendOne(previousLife, Delivery("claimed by the earlier pid scheme", null));
        File.Move(earlierScheme, Path.ChangeExtension(earlierScheme, $".{Environment.ProcessId}.draining"));
        heldWhenItDied.Dispose(); // What dying does to an open file.
        var restarted = _directory.NewSpool();

        var drained = restarted.Files().Select(file =>
        {
            using var claim = restarted.TryClaim(file);
            Assert.NotNull(claim);
            var body = Encoding.UTF8.GetString(Assert.Single(claim.Read().Deliveries).Body);
            claim.Complete();
            return body;
        }).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(["claimed before the crash", "claimed by the earlier pid scheme"], drained);
        Assert.True(restarted.IsEmpty);
    }

    [Fact]
    public async Task A_batch_held_by_another_process_is_left_alone_while_it_lives_and_taken_over_as_soon_as_it_dies()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && File.Exists("/usr/bin/flock"), "Needs Linux and flock(1).");
        var spool = _directory.NewSpool();
        spool.Append([Delivery("hello", null)]);
        var file = Assert.Single(spool.Files());

        // flock(1) takes the same kind of lock (flock LOCK_EX) in a process of its own, then sleeps holding it.
        using var otherDrainer = Process.Start(new ProcessStartInfo("/usr/bin/flock", ["--exclusive", file, "sleep", "60"]))!;
        try
        {
            Assert.True(await EventuallyAsync(() => !CanClaim(spool, file), TimeSpan.FromSeconds(10)), "flock(1) never took the lock");
            await Task.Delay(TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken);
            Assert.False(CanClaim(spool, file));
        }
        finally
        {
            otherDrainer.Kill(entireProcessTree: true);
        }

        var died = Stopwatch.StartNew();
        Assert.True(await EventuallyAsync(() => CanClaim(spool, file), TimeSpan.FromSeconds(2)), "the dead process's claim was not taken over");
        Assert.InRange(died.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void A_complete_orphaned_write_is_published_and_a_torn_one_removed()
    {
        var spool = _directory.NewSpool();
        var published = AppendOne(spool, Delivery("acknowledged, but its rename was lost", null), Delivery("same batch", null));
        var cutShort = AppendOne(spool, Delivery("cut short by a crash", null));
        var complete = Path.ChangeExtension(published, ".tmp");
        var torn = Path.ChangeExtension(cutShort, ".tmp");
        File.Move(published, complete);
        File.Move(cutShort, torn);
        using (var cut = new FileStream(torn, FileMode.Open))
        {
            cut.SetLength(cut.Length - 3);
        }

        foreach (var orphan in new[] { complete, torn })
        {
            File.SetLastWriteTimeUtc(orphan, DateTime.UtcNow.AddMinutes(-5));
        }

        var outcomes = spool.OrphanedWrites(TimeSpan.FromSeconds(30)).ToDictionary(file => file, spool.RecoverOrphanedWrite);

        Assert.Equal(OrphanedWriteOutcome.Published, outcomes[complete]);
        Assert.Equal(OrphanedWriteOutcome.Removed, outcomes[torn]);
        Assert.Empty(Directory.EnumerateFiles(_directory.Path, "*.tmp"));
        using var claim = spool.TryClaim(Assert.Single(spool.Files()));
        Assert.NotNull(claim);
        Assert.Equal(2, claim.Read().Deliveries.Count);
    }

    [Fact]
    public void A_temporary_file_becomes_an_orphan_only_once_it_is_older_than_the_minimum_age_by_the_services_clock()
    {
        var writtenAt = new DateTimeOffset(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var clock = new FakeTimeProvider(writtenAt + TimeSpan.FromSeconds(29));
        var spool = _directory.NewSpool(clock);
        var temporary = Path.Combine(_directory.Path, "20300101120000000000-abandoned.tmp");
        File.WriteAllBytes(temporary, []);
        File.SetLastWriteTimeUtc(temporary, writtenAt.UtcDateTime);

        Assert.Empty(spool.OrphanedWrites(TimeSpan.FromSeconds(30)));

        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(temporary, Assert.Single(spool.OrphanedWrites(TimeSpan.FromSeconds(30))));
    }

    [Fact]
    public void Batches_are_named_by_the_services_clock_and_drain_in_that_order()
    {
        var spool = _directory.NewSpool(new FakeTimeProvider(new DateTimeOffset(2030, 1, 2, 12, 0, 0, TimeSpan.Zero)));
        var behindByADay = _directory.NewSpool(new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 12, 0, 0, TimeSpan.Zero)));
        var later = AppendOne(spool, Delivery("later", null));
        var earlier = AppendOne(behindByADay, Delivery("earlier", null));

        Assert.StartsWith("20300102120000", Path.GetFileName(later), StringComparison.Ordinal);
        Assert.Equal([earlier, later], spool.Files());
    }

    [Fact]
    public void A_write_in_progress_is_never_taken_for_an_orphan()
    {
        var spool = _directory.NewSpool();
        var young = Path.Combine(_directory.Path, "20990101000000000000-young.tmp");
        var slow = Path.Combine(_directory.Path, "20990101000000000000-slow.tmp");
        File.WriteAllBytes(young, []);

        // A writer holds its temporary file exactly so, for as long as it writes.
        using (var writer = new FileStream(slow, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            File.SetLastWriteTimeUtc(slow, DateTime.UtcNow.AddMinutes(-5));

            var orphan = Assert.Single(spool.OrphanedWrites(TimeSpan.FromSeconds(30)));

            Assert.Equal(slow, orphan);
            Assert.Equal(OrphanedWriteOutcome.InUse, spool.RecoverOrphanedWrite(orphan));
            Assert.True(File.Exists(slow));
        }

        Assert.True(File.Exists(young));
    }

    [Fact]
    public void A_damaged_file_yields_the_records_before_the_damage()
    {
        var spool = _directory.NewSpool();
        spool.Append([Delivery("one", null), Delivery("two", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), Delivery("three", null)]);
        var bytes = File.ReadAllBytes(Assert.Single(spool.Files()));

        var truncated = SpoolRecordFormat.Parse(bytes.AsSpan(0, bytes.Length - 2));
        var zeros = SpoolRecordFormat.Parse(new byte[4096]);
        var garbage = SpoolRecordFormat.Parse(RandomBytes(4096, seed: 8));
        var lengthBeyondTheEnd = bytes.ToArray();
        lengthBeyondTheEnd[8 + 4 + 3] = 0x7F; // The high byte of the first body's length: far beyond the end of the file.

        Assert.Equal("damaged after: one, two", Summary(truncated));
        Assert.Equal("damaged after: ", Summary(zeros));
        Assert.Equal("damaged after: ", Summary(garbage));
        Assert.Equal("damaged after: ", Summary(SpoolRecordFormat.Parse(lengthBeyondTheEnd)));
        Assert.Equal("complete: one, two, three", Summary(SpoolRecordFormat.Parse(bytes)));
    }

    internal static InboundDeliveryRecord Delivery(string body, string? traceParent) =>
        new(DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), Encoding.UTF8.GetBytes(body), traceParent);

    /// <returns>The file the batch went to.</returns>
    internal static string AppendOne(InboxSpool spool, params InboundDeliveryRecord[] deliveries)
    {
        var before = spool.Files().ToHashSet();
        spool.Append(deliveries);
        return Assert.Single(spool.Files(), file => !before.Contains(file));
    }

    internal static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    internal static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan patience)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > patience)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), TestContext.Current.CancellationToken);
        }

        return true;
    }

    private static bool CanClaim(InboxSpool spool, string file)
    {
        using var claim = spool.TryClaim(file);
        return claim is not null;
    }

    private static string Summary(SpoolContents contents) =>
        (contents.IsComplete ? "complete: " : "damaged after: ")
        + string.Join(", ", contents.Deliveries.Select(d => Encoding.UTF8.GetString(d.Body)));

    private static void AssertSame(IReadOnlyList<InboundDeliveryRecord> expected, IReadOnlyList<InboundDeliveryRecord> actual) =>
        Assert.Equal(
            expected.Select(d => (d.ReceivedAt, Convert.ToHexString(d.Body), d.TraceParent)),
            actual.Select(d => (d.ReceivedAt, Convert.ToHexString(d.Body), d.TraceParent)));
}

/// <summary>A spool directory of a test's own, removed afterwards.</summary>
internal sealed class SpoolDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("ava-spool-").FullName;

    public IOptions<WhatsAppProcessingOptions> Options(TimeSpan? pollInterval = null) =>
        Microsoft.Extensions.Options.Options.Create(new WhatsAppProcessingOptions
        {
            SpoolDirectory = Path,
            PollInterval = pollInterval ?? TimeSpan.FromSeconds(1),
        });

    /// <summary>Another user of the directory: a webhook instance of its own, as far as the spool can tell.</summary>
    public InboxSpool NewSpool(TimeProvider? clock = null) => new(Options(), clock ?? TimeProvider.System);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
