using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Sending;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Ava.Tests.Unit;

/// <summary>Each business number stays within its Meta throughput, shared by the instances that send.</summary>
public sealed class SendPacerTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private int _instances = 1;

    [Fact]
    public async Task A_number_sends_a_short_burst_then_at_its_rate()
    {
        var pacer = Pacer();

        var turns = Enumerable.Range(0, 12).Select(_ => pacer.WaitTurnAsync("A", CancellationToken.None)).ToList();

        Assert.Equal(9, turns.Count(t => t.IsCompleted)); // 80/s allows a tenth of a second's burst, plus one
        _clock.Advance(TimeSpan.FromMilliseconds(12.5));
        await Task.Yield();
        Assert.Equal(10, turns.Count(t => t.IsCompleted));
        _clock.Advance(TimeSpan.FromMilliseconds(25));
        await Task.WhenAll(turns);
    }

    [Fact]
    public void A_number_on_a_higher_tier_sends_more_at_once()
    {
        var pacer = Pacer(new() { ["TIER"] = 1000 });

        var turns = Enumerable.Range(0, 120).Select(_ => pacer.WaitTurnAsync("TIER", CancellationToken.None)).ToList();

        Assert.InRange(turns.Count(t => t.IsCompleted), 100, 102); // a tenth of a second at 1,000/s
    }

    [Fact]
    public async Task A_paused_number_waits_while_the_others_go_on()
    {
        var pacer = Pacer();

        pacer.Pause("A", TimeSpan.FromSeconds(3));
        var paused = pacer.WaitTurnAsync("A", CancellationToken.None);
        var other = pacer.WaitTurnAsync("B", CancellationToken.None);

        Assert.True(other.IsCompleted);
        Assert.False(paused.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(3));
        await paused.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Two_sending_instances_each_take_half_of_a_numbers_rate()
    {
        _instances = 2;
        var pacer = Pacer();

        var turns = Enumerable.Range(0, 12).Select(_ => pacer.WaitTurnAsync("A", CancellationToken.None)).ToList();

        Assert.Equal(5, turns.Count(t => t.IsCompleted)); // 40/s here: four in a tenth of a second, plus one
    }

    [Fact]
    public void A_number_with_a_seconds_worth_waiting_is_not_claimed_for()
    {
        var pacer = Pacer();

        for (var i = 0; i < 100; i++)
        {
            _ = pacer.WaitTurnAsync("BUSY", CancellationToken.None);
        }

        _ = pacer.WaitTurnAsync("QUIET", CancellationToken.None);
        Assert.Equal(["BUSY"], pacer.SaturatedNumbers());
    }

    private SendPacer Pacer(Dictionary<string, int>? rates = null) =>
        new(_clock, () => _instances, Options.Create(new WhatsAppProcessingOptions { NumberRates = rates ?? [] }));
}
