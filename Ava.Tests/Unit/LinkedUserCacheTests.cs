using Ava.Linking;
using Microsoft.Extensions.Time.Testing;

namespace Ava.Tests.Unit;

/// <summary>Versioned cache entries, and invalidation that outlasts a Redis hiccup.</summary>
public sealed class LinkedUserCacheTests
{
    private static readonly Guid s_user = Guid.Parse("0196a8a0-0000-7000-8000-00000000000b");

    [Fact]
    public void An_entry_of_the_current_version_is_a_hit()
    {
        Assert.True(LinkedUserCache.TryRead(LinkedUserCache.Entry(3, s_user, "US.13491208655302741918"), 3, out var user, out var recorded));
        Assert.Equal((s_user, "US.13491208655302741918"), (user, recorded));

        Assert.True(LinkedUserCache.TryRead(LinkedUserCache.Entry(3, s_user), 3, out _, out var none));
        Assert.Null(none);

        Assert.True(LinkedUserCache.TryRead(LinkedUserCache.Entry(3, null), 3, out var nobody, out _));
        Assert.Null(nobody);
    }

    [Fact]
    public void An_entry_written_before_the_link_changed_is_a_miss()
    {
        Assert.False(LinkedUserCache.TryRead(LinkedUserCache.Entry(2, s_user), 3, out _, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0196a8a0-0000-7000-8000-00000000000b")]
    [InlineData("0:not-a-user")]
    [InlineData("x:-")]
    [InlineData("0:0196a8a0-0000-7000-8000-00000000000b")]
    public void An_absent_or_unreadable_entry_is_a_miss(string? entry) =>
        Assert.False(LinkedUserCache.TryRead(entry, 0, out _, out _));

    [Fact]
    public void A_phone_whose_link_never_changed_is_at_version_zero()
    {
        Assert.Equal(0, LinkedUserCache.VersionOf(null));
        Assert.Equal(7, LinkedUserCache.VersionOf("7"));
        Assert.Equal(["ava:whatsapp-user-version:1555", "ava:whatsapp-user:1555"], LinkedUserCache.InvalidationKeys(["1555", "1555"]));
    }

    [Fact]
    public async Task An_invalidation_redis_refused_is_retried_in_the_background_until_it_succeeds()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var attempts = 0;
        var failures = new List<bool>();

        await LinkedUserCache.InvalidateAfterCommitAsync(
            () => ++attempts < 3 ? Task.FromException(new InvalidOperationException("Redis is away")) : Task.CompletedTask,
            (_, retrying) => failures.Add(retrying),
            clock,
            LinkedUserCache.Retries(clock),
            TestContext.Current.CancellationToken);

        Assert.Equal(1, attempts);
        await AdvanceUntilAsync(clock, () => attempts == 3, TimeSpan.FromMinutes(1));
        Assert.Equal([true, true], failures);
    }

    [Fact]
    public async Task Retrying_stops_once_every_entry_written_before_the_change_has_expired()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var failures = new List<bool>();

        await LinkedUserCache.InvalidateAfterCommitAsync(
            () => Task.FromException(new InvalidOperationException("Redis is away")),
            (_, retrying) => { lock (failures) { failures.Add(retrying); } },
            clock,
            LinkedUserCache.Retries(clock),
            TestContext.Current.CancellationToken);

        await AdvanceUntilAsync(clock, () => { lock (failures) { return failures.Contains(false); } }, LinkedUserCache.InvalidationDeadline + TimeSpan.FromMinutes(1));
        lock (failures)
        {
            Assert.False(failures[^1]);
            Assert.InRange(failures.Count, 10, 40);
        }
    }

    /// <summary>Moves the fake clock on in steps, giving the background retries a moment to run between them.</summary>
    private static async Task AdvanceUntilAsync(FakeTimeProvider clock, Func<bool> done, TimeSpan limit)
    {
        var start = clock.GetUtcNow();
        while (!done())
        {
            Assert.True(clock.GetUtcNow() - start <= limit, "The retries did not get there in time.");
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }
}
