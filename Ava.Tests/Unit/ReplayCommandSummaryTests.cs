using Ava.AppHost.WhatsApp;

namespace Ava.Tests.Unit;

/// <summary>The one line the dashboard's Replay failed shows of the webhook's report.</summary>
public sealed class ReplayCommandSummaryTests
{
    [Fact]
    public void Turns_asked_again_and_refused_are_told_after_deliveries_and_replies()
    {
        const string report = """
            {"deliveries":{"replayed":2,"replayed_ids":[1,2],"not_failed_ids":[]},
             "replies":{"replayed":1,"refused":1,"replayed_ids":[7],"refusals":[{"id":8,"error_code":131047,"error_title":"Re-engagement message","detail":"…"}],"not_failed_ids":[]},
             "turns":{"replayed":3,"refused":1,"replayed_ids":[4,5,6],"refusals":[{"id":9,"error_code":131047,"error_title":"Re-engagement message","detail":"…"}],"not_failed_ids":[]}}
            """;

        Assert.Equal(
            "Replayed 2 failed deliveries and 1 failed reply; asked the responder again about 3 failed turns; " +
            "refused 1 failed reply (131047 Re-engagement message), 1 failed turn (131047 Re-engagement message).",
            ReplayCommandExtensions.Summarize(report));
    }

    [Fact]
    public void Without_turns_the_line_is_as_it_was()
    {
        const string report = """
            {"deliveries":{"replayed":0,"replayed_ids":[],"not_failed_ids":[]},
             "replies":{"replayed":1,"refused":0,"replayed_ids":[7],"refusals":[],"not_failed_ids":[]},
             "turns":{"replayed":0,"refused":0,"replayed_ids":[],"refusals":[],"not_failed_ids":[]}}
            """;

        Assert.Equal("Replayed 0 failed deliveries and 1 failed reply.", ReplayCommandExtensions.Summarize(report));
    }
}
