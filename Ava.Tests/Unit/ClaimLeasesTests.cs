using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Claims;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Ava.Tests.Unit;

/// <summary>
/// What this instance believes it holds. A send starts only while the reply's lease surely outlasts it, so that
/// belief must never outrun Postgres: a row another instance took over is no longer held, whatever else renewed.
/// </summary>
public sealed class ClaimLeasesTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private readonly Guid _token = Guid.CreateVersion7();
    private IReadOnlySet<(long Id, Guid Token)> _stillHeld = new HashSet<(long, Guid)>();

    [Fact]
    public void A_fresh_claim_holds_each_of_its_rows_for_a_lease()
    {
        var leases = Leases();
        leases.Hold(_token, [1, 2], _clock.GetTimestamp());

        Assert.Equal(TimeSpan.FromSeconds(14), leases.Remaining(_token, 1));
        Assert.Equal(TimeSpan.Zero, leases.Remaining(_token, 3));
        Assert.Equal(TimeSpan.Zero, leases.Remaining(Guid.CreateVersion7(), 1));
    }

    [Fact]
    public async Task A_row_the_renewal_did_not_find_under_the_token_is_no_longer_held_while_its_claim_mates_are()
    {
        var leases = Leases();
        leases.Hold(_token, [1, 2], _clock.GetTimestamp());
        _clock.Advance(TimeSpan.FromSeconds(2));

        _stillHeld = new HashSet<(long, Guid)> { (2, _token) };
        await leases.RenewAsync(TestContext.Current.CancellationToken);

        Assert.Equal(TimeSpan.Zero, leases.Remaining(_token, 1));
        Assert.Equal(TimeSpan.FromSeconds(14), leases.Remaining(_token, 2));
    }

    [Fact]
    public async Task A_renewal_that_found_nothing_extends_nothing()
    {
        var leases = Leases();
        leases.Hold(_token, [1], _clock.GetTimestamp());
        _clock.Advance(TimeSpan.FromSeconds(10));

        await leases.RenewAsync(TestContext.Current.CancellationToken);

        Assert.Equal(TimeSpan.Zero, leases.Remaining(_token, 1));
    }

    [Fact]
    public async Task A_failed_renewal_lets_the_lease_run_down()
    {
        var leases = Leases(fail: true);
        leases.Hold(_token, [1], _clock.GetTimestamp());
        _clock.Advance(TimeSpan.FromSeconds(5));

        await Assert.ThrowsAsync<TimeoutException>(() => leases.RenewAsync(TestContext.Current.CancellationToken));

        Assert.Equal(TimeSpan.FromSeconds(9), leases.Remaining(_token, 1));
    }

    /// <summary>The renewal statement's answer is given by the test: which rows Postgres still has under their token.</summary>
    private ClaimLeases Leases(bool fail = false) => new(
        (_, _, _, _) => fail ? Task.FromException<IReadOnlySet<(long, Guid)>>(new TimeoutException()) : Task.FromResult(_stillHeld),
        _clock,
        Options.Create(new WhatsAppProcessingOptions()));
}
