using Ava.WebhookApi.WhatsApp.Sending;

namespace Ava.Tests.Unit;

/// <summary>When replies held back by a Graph API failure may all go again.</summary>
public sealed class GraphRecoveryTests
{
    private const string Busy = "100000000000001";
    private const string Other = "100000000000002";

    private static readonly GraphSendResult s_accepted = GraphSendResult.Accepted("wamid.OUT");

    [Fact]
    public void The_first_accepted_send_after_a_failure_of_its_number_ends_that_failure_once()
    {
        var recovery = new GraphRecovery();

        Assert.False(recovery.Observe(Busy, Transient(131016)));
        Assert.False(recovery.Observe(Busy, Transient(130429)));
        Assert.True(recovery.Observe(Busy, s_accepted));
        Assert.False(recovery.Observe(Busy, s_accepted));
    }

    [Fact]
    public void Numbers_recover_on_their_own()
    {
        var recovery = new GraphRecovery();
        recovery.Observe(Busy, Transient(131016));

        Assert.False(recovery.Observe(Other, s_accepted));
        Assert.True(recovery.Observe(Busy, s_accepted));
    }

    [Fact]
    public void Neither_one_recipients_pair_limit_nor_a_permanent_refusal_holds_a_number_back()
    {
        var recovery = new GraphRecovery();

        recovery.Observe(Busy, Transient(ReplyRetryPolicy.PairRateLimitCode));
        recovery.Observe(Busy, new GraphSendResult(GraphSendOutcome.Permanent, ErrorCode: 131026));

        Assert.False(recovery.Observe(Busy, s_accepted));
    }

    [Fact]
    public void A_number_the_token_may_not_use_recovers_on_its_first_accepted_send_but_a_dead_token_is_the_token_monitors_business()
    {
        var recovery = new GraphRecovery();

        Assert.False(recovery.Observe(Busy, new GraphSendResult(GraphSendOutcome.Credential, ErrorCode: 10, ErrorTitle: "Permission denied")));
        Assert.False(recovery.Observe(Other, new GraphSendResult(GraphSendOutcome.Credential, ErrorCode: 190, ErrorTitle: "Session has expired")));

        Assert.True(recovery.Observe(Busy, s_accepted));
        Assert.False(recovery.Observe(Other, s_accepted));
    }

    [Fact]
    public void A_timeout_counts_as_a_failure_of_the_number()
    {
        var recovery = new GraphRecovery();

        recovery.Observe(Busy, new GraphSendResult(GraphSendOutcome.Transient, ErrorTitle: "timeout", MayHaveReachedMeta: true));

        Assert.True(recovery.Observe(Busy, s_accepted));
    }

    private static GraphSendResult Transient(int code) => new(GraphSendOutcome.Transient, ErrorCode: code, ErrorTitle: "try later");
}
