using StackExchange.Redis;

namespace Ava.Tests.Integration;

/// <summary>The stack's real Redis, for arranging what another instance would have cached at an awkward moment.</summary>
public static class AvaCache
{
    public static async Task<ConnectionMultiplexer> ConnectAsync(AvaStackFixture stack) =>
        await ConnectionMultiplexer.ConnectAsync(await stack.GetConnectionStringAsync("cache"));
}
