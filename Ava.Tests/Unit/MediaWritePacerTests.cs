using Ava.WebhookApi.WhatsApp.Media;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Ava.Tests.Unit;

public sealed class MediaWritePacerTests
{
    private const int Mebibyte = 1024 * 1024;

    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task Media_is_written_no_faster_than_the_pace_and_arrives_whole()
    {
        var pacer = Pacer(bytesPerSecond: Mebibyte);
        var bytes = new byte[3 * Mebibyte];
        Random.Shared.NextBytes(bytes);
        var written = new MemoryStream();

        var copying = pacer.Pace(new MemoryStream(bytes)).CopyToAsync(written, Mebibyte, TestContext.Current.CancellationToken);

        // Each mebibyte takes a second of the pace: the first goes at once, the third only two seconds later.
        await SettleAsync();
        _clock.Advance(TimeSpan.FromSeconds(1.5));
        await SettleAsync();
        Assert.False(copying.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(1.5));
        await copying.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Equal(bytes, written.ToArray());
    }

    [Fact]
    public async Task One_media_is_written_at_a_time_the_next_when_the_first_is_done()
    {
        var pacer = Pacer(bytesPerSecond: Mebibyte);
        var first = await pacer.WaitForTurnAsync(TestContext.Current.CancellationToken);

        var second = pacer.WaitForTurnAsync(TestContext.Current.CancellationToken);
        await SettleAsync();
        Assert.False(second.IsCompleted);

        first.Dispose();
        first.Dispose();
        (await second.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).Dispose();
        (await pacer.WaitForTurnAsync(TestContext.Current.CancellationToken)).Dispose();
    }

    [Fact]
    public void A_pace_of_zero_leaves_media_unpaced()
    {
        var content = new MemoryStream();

        Assert.Same(content, Pacer(bytesPerSecond: 0).Pace(content));
    }

    private MediaWritePacer Pacer(long bytesPerSecond) => new(_clock, Options.Create(new MediaOptions { MaxBytesPerSecond = bytesPerSecond }));

    /// <summary>Lets continuations that do not wait for the clock run.</summary>
    private static Task SettleAsync() => Task.Delay(TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken);
}
