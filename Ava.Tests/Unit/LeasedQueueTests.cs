using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Claims;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Ava.Tests.Unit;

/// <summary>
/// The one mechanism every stage's queue runs on. Its room is what keeps a stage from taking more than it can hold,
/// and from starving: room taken and never given back would silently lower throughput, so every path that takes
/// room — a sweep, a handover, a sweep that failed — is shown giving it back exactly once.
/// </summary>
public sealed class LeasedQueueTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero));
    private readonly IOptions<WhatsAppProcessingOptions> _options = Options.Create(new WhatsAppProcessingOptions());
    private readonly List<long> _table = [.. Enumerable.Range(1, 100).Select(i => (long)i)];
    private IReadOnlySet<(long Id, Guid Token)> _stillHeld = new HashSet<(long, Guid)>();

    [Fact]
    public async Task A_sweep_claims_no_more_than_the_room_left_and_holds_what_it_claimed_for_a_lease()
    {
        var queue = Queue(capacity: 10);

        var sweep = await queue.SweepAsync(limit: 50, minimum: 1, ClaimFromTable, _ => { });

        Assert.Equal(SweepResult.Claimed, sweep.Result);
        Assert.Equal(10, sweep.Rows.Count);
        Assert.Equal(10, queue.InHand);
        Assert.Equal(0, queue.Room);
        Assert.Equal(_options.Value.ClaimLease, queue.Remaining(sweep.Rows[0]));
    }

    [Fact]
    public async Task A_sweep_without_the_minimum_room_claims_nothing_and_says_so()
    {
        var queue = Queue(capacity: 10);
        await queue.SweepAsync(limit: 8, minimum: 1, ClaimFromTable, _ => { });

        var sweep = await queue.SweepAsync(limit: 8, minimum: 4, ClaimFromTable, _ => throw new InvalidOperationException("no claim expected"));

        Assert.Equal(SweepResult.NoRoom, sweep.Result);
        Assert.Empty(sweep.Rows);
        Assert.Equal(8, queue.InHand);
    }

    [Fact]
    public async Task Finished_rows_give_their_room_back_and_are_no_longer_held()
    {
        var queue = Queue(capacity: 10);
        var sweep = await queue.SweepAsync(limit: 10, minimum: 1, ClaimFromTable, _ => { });

        queue.Finished(sweep.Rows.Take(4).ToList());

        Assert.Equal(6, queue.InHand);
        Assert.Equal(TimeSpan.Zero, queue.Remaining(sweep.Rows[0]));
        Assert.Equal(_options.Value.ClaimLease, queue.Remaining(sweep.Rows[9]));
    }

    [Fact]
    public async Task A_sweep_that_found_less_than_its_room_gives_the_rest_back_at_once()
    {
        var queue = Queue(capacity: 10);
        _table.RemoveRange(3, _table.Count - 3);

        var sweep = await queue.SweepAsync(limit: 10, minimum: 1, ClaimFromTable, _ => { });

        Assert.Equal(3, sweep.Rows.Count);
        Assert.Equal(3, queue.InHand);
        Assert.False(sweep.Filled(10));
    }

    [Fact]
    public async Task A_sweep_postgres_could_not_answer_gives_its_room_back_and_holds_takeovers_back_for_a_lease()
    {
        var queue = Queue(capacity: 10, out var outage);
        Exception? reported = null;

        var sweep = await queue.SweepAsync(
            limit: 10, minimum: 1, (_, _, _, _, _) => Task.FromException<List<Row>>(new NpgsqlException("connection refused")), e => reported = e);

        Assert.Equal(SweepResult.Unavailable, sweep.Result);
        Assert.IsType<NpgsqlException>(reported);
        Assert.Equal(0, queue.InHand);
        Assert.False(outage.MayTakeOver);
        _clock.Advance(_options.Value.ClaimLease + TimeSpan.FromSeconds(1));
        Assert.True(outage.MayTakeOver);
    }

    [Fact]
    public async Task A_sweep_that_failed_for_another_reason_gives_its_room_back_and_lets_the_stage_see_the_error()
    {
        var queue = Queue(capacity: 10);

        await Assert.ThrowsAsync<InvalidOperationException>(() => queue.SweepAsync(
            limit: 10, minimum: 1, (_, _, _, _, _) => Task.FromException<List<Row>>(new InvalidOperationException("bad SQL")), _ => { }));

        Assert.Equal(0, queue.InHand);
    }

    [Fact]
    public void A_handover_that_hands_fewer_rows_than_it_reserved_gives_the_rest_back_and_hands_what_it_has()
    {
        var queue = Queue(capacity: 10);
        var token = Guid.CreateVersion7();

        using (var handover = queue.TryReserve(5))
        {
            Assert.NotNull(handover);
            Assert.Equal(5, queue.InHand);
            handover.Hand(token, [new Row(1, token), new Row(2, token)], _clock.GetTimestamp());
        }

        Assert.Equal(2, queue.InHand);
        Assert.Equal(2, queue.Waiting);
        var taken = queue.Take(10);
        Assert.Equal([1L, 2L], taken.Select(r => r.Id));
        Assert.Equal(_options.Value.ClaimLease, queue.Remaining(taken[0]));
    }

    [Fact]
    public void A_handover_abandoned_before_it_handed_anything_gives_all_its_room_back()
    {
        var queue = Queue(capacity: 10);

        using (queue.TryReserve(7))
        {
            Assert.Equal(7, queue.InHand);
        }

        Assert.Equal(0, queue.InHand);
        Assert.Equal(0, queue.Waiting);
    }

    [Fact]
    public void No_room_is_reserved_beyond_capacity_nor_once_the_stage_is_closing()
    {
        var queue = Queue(capacity: 10);

        Assert.Null(queue.TryReserve(11));
        using var fits = queue.TryReserve(10);
        Assert.NotNull(fits);
        fits.Dispose();

        queue.Close();
        Assert.Null(queue.TryReserve(1));
    }

    [Fact]
    public async Task A_renewal_that_no_longer_finds_a_row_under_its_token_stops_holding_it_while_its_claim_mates_stay_held()
    {
        var queue = Queue(capacity: 10);
        var sweep = await queue.SweepAsync(limit: 2, minimum: 1, ClaimFromTable, _ => { });
        _clock.Advance(TimeSpan.FromSeconds(2));

        _stillHeld = new HashSet<(long, Guid)> { (sweep.Rows[1].Id, sweep.Rows[1].Token) };
        await queue.RenewAsync(TestContext.Current.CancellationToken);

        Assert.Equal(TimeSpan.Zero, queue.Remaining(sweep.Rows[0]));
        Assert.Equal(_options.Value.ClaimLease, queue.Remaining(sweep.Rows[1]));
    }

    private Task<List<Row>> ClaimFromTable(Guid token, int limit, TimeSpan lease, bool takeOverExpired, CancellationToken cancellationToken)
    {
        var claimed = _table.Take(limit).Select(id => new Row(id, token)).ToList();
        _table.RemoveRange(0, claimed.Count);
        return Task.FromResult(claimed);
    }

    private TestQueue Queue(int capacity) => Queue(capacity, out _);

    private TestQueue Queue(int capacity, out DatabaseOutage outage)
    {
        outage = new DatabaseOutage(_clock, _options);
        return new TestQueue((_, _, _, _) => Task.FromResult(_stillHeld), capacity, outage, _clock, _options);
    }

    private sealed record Row(long Id, Guid Token) : IClaimedRow;

    /// <summary>A queue whose table is a list, and whose renewal answers what the test says Postgres still holds.</summary>
    private sealed class TestQueue(RenewLeases renew, int capacity, DatabaseOutage outage, TimeProvider clock, IOptions<WhatsAppProcessingOptions> options)
        : LeasedQueue<Row>("test_rows", renew, () => capacity, outage, clock, options);
}
