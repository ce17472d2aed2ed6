using System.Net.Sockets;
using Npgsql;
using StackExchange.Redis;

namespace Ava.WebhookApi.WhatsApp.Claims;

/// <summary>
/// Which failures are the infrastructure being away (Postgres, Redis, the network) rather than something wrong with
/// the work itself. An outage is waited out, however long it lasts: it never counts against a delivery or a reply.
/// </summary>
internal static class Outages
{
    public static bool IsOutage(Exception exception) => exception switch
    {
        // The session's statement_timeout ended a statement that ran too long: Postgres overloaded or a lock held
        // by a stuck session, not the work at fault.
        PostgresException { SqlState: PostgresErrorCodes.QueryCanceled } => true,

        // Connection loss, timeouts, lock timeouts, serialization failures and deadlocks: Npgsql knows they may pass.
        NpgsqlException npgsql => npgsql.IsTransient || npgsql is not PostgresException,
        RedisException or RedisTimeoutException or TimeoutException or SocketException => true,
        OperationCanceledException => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(IsOutage),
        _ => exception.InnerException is { } inner && IsOutage(inner),
    };

    /// <summary>
    /// Whether the database (or the network to it) could not be reached at all. Redis being away is not: its
    /// timeouts are <see cref="TimeoutException"/>s too, but they say nothing of whether holders can record in Postgres.
    /// </summary>
    public static bool IsUnreachable(Exception exception) => exception switch
    {
        _ when IsRedis(exception) => false,
        PostgresException postgres => postgres.SqlState.StartsWith("08", StringComparison.Ordinal) || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal),
        NpgsqlException or TimeoutException or SocketException => true,
        _ => exception.InnerException is { } inner && IsUnreachable(inner),
    };

    /// <summary>Whether it is Redis that is away (or too slow), not Postgres.</summary>
    public static bool IsRedis(Exception exception) => exception switch
    {
        RedisException or RedisTimeoutException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsRedis),
        _ => exception.InnerException is { } inner && IsRedis(inner),
    };
}

/// <summary>The claim a write was meant to finish is no longer ours: its lease ran out and another took it over.</summary>
internal sealed class LostClaimException(string message) : Exception(message);
