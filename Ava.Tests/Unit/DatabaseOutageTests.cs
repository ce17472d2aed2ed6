using System.Net.Sockets;
using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Claims;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using StackExchange.Redis;

namespace Ava.Tests.Unit;

/// <summary>
/// After Postgres was away, expired claims wait a lease before they are taken over, so that their holders can
/// record what they sent. Redis being away is no reason to wait: work of a dead instance still moves on.
/// </summary>
public sealed class DatabaseOutageTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Redis_timing_out_or_refusing_connections_never_holds_back_takeovers()
    {
        var outage = new DatabaseOutage(_clock, Options.Create(new WhatsAppProcessingOptions()));

        outage.Observe(new RedisTimeoutException("Timeout awaiting response (outbound=0KiB, inbound=0KiB, 5000ms elapsed)", CommandStatus.Sent));
        outage.Observe(new RedisConnectionException(ConnectionFailureType.UnableToConnect, "No connection is active/available", new SocketException()));
        outage.Observe(new AggregateException(new RedisTimeoutException("Timeout", CommandStatus.WaitingToBeSent)));

        Assert.True(outage.MayTakeOver);
        Assert.True(Outages.IsRedis(new InvalidOperationException("wrapped", new RedisTimeoutException("Timeout", CommandStatus.Sent))));
    }

    [Fact]
    public void Postgres_out_of_reach_holds_back_takeovers_for_a_lease()
    {
        var outage = new DatabaseOutage(_clock, Options.Create(new WhatsAppProcessingOptions()));

        outage.Observe(new NpgsqlException("Exception while connecting", new SocketException()));
        Assert.False(outage.MayTakeOver);
        Assert.False(Outages.IsRedis(new NpgsqlException("Exception while reading from stream", new TimeoutException())));

        _clock.Advance(new WhatsAppProcessingOptions().ClaimLease + TimeSpan.FromSeconds(1));
        Assert.True(outage.MayTakeOver);
    }
}
