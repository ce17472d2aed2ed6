namespace Ava.Hosting.Local.Tests;

/// <summary>How the pg_hba.conf of a cluster initialised with trust is switched to passwords.</summary>
public sealed class PgHbaConfTests
{
    /// <summary>The records and the comments about trust that initdb --auth=trust writes (PostgreSQL 15).</summary>
    private const string InitialisedWithTrust =
        """
        # METHOD can be "trust", "reject", "md5", "password", "scram-sha-256",
        # CAUTION: Configuring the system for local "trust" authentication
        # allows any local user to connect as any PostgreSQL user, including
        # the database superuser.  If you do not trust all your local users,
        # use another authentication method.

        # TYPE  DATABASE        USER            ADDRESS                 METHOD

        # "local" is for Unix domain socket connections only
        local   all             all                                     trust
        # IPv4 local connections:
        host    all             all             127.0.0.1/32            trust
        # IPv6 local connections:
        host    all             all             ::1/128                 trust
        # Allow replication connections from localhost, by a user with the
        # replication privilege.
        local   replication     all                                     trust
        host    replication     all             127.0.0.1/32            trust
        host    replication     all             ::1/128                 trust

        """;

    [Fact]
    public void A_cluster_initialised_with_trust_asks_for_passwords_on_tcp_and_checks_the_os_user_on_the_socket()
    {
        Assert.True(PgHbaConf.TryReplaceTrust(InitialisedWithTrust, out var upgraded));

        Assert.Equal(
            [
                "local   all             all                                     peer",
                "host    all             all             127.0.0.1/32            scram-sha-256",
                "host    all             all             ::1/128                 scram-sha-256",
                "local   replication     all                                     peer",
                "host    replication     all             127.0.0.1/32            scram-sha-256",
                "host    replication     all             ::1/128                 scram-sha-256",
            ],
            Records(upgraded));
        Assert.Equal(Comments(InitialisedWithTrust), Comments(upgraded));
    }

    [Fact]
    public void A_file_without_trust_records_is_left_as_it_is_so_the_upgrade_happens_once()
    {
        PgHbaConf.TryReplaceTrust(InitialisedWithTrust, out var upgraded);

        Assert.False(PgHbaConf.TryReplaceTrust(upgraded, out var again));
        Assert.Same(upgraded, again);
    }

    [Theory]
    [InlineData("host all all 127.0.0.1 255.255.255.255 trust", "host all all 127.0.0.1 255.255.255.255 scram-sha-256")]
    [InlineData("hostssl all all 0.0.0.0/0 trust clientcert=verify-full", "hostssl all all 0.0.0.0/0 scram-sha-256 clientcert=verify-full")]
    [InlineData("host\tava\tall\tlocalhost\ttrust # mine", "host\tava\tall\tlocalhost\tscram-sha-256 # mine")]
    [InlineData("local all all trust\r", "local all all peer\r")]
    public void A_developers_own_trust_records_keep_everything_but_their_method(string record, string expected)
    {
        Assert.True(PgHbaConf.TryReplaceTrust(record, out var upgraded));

        Assert.Equal(expected, upgraded);
    }

    [Theory]
    [InlineData("host all all 127.0.0.1/32 md5")]
    [InlineData("host all trust 127.0.0.1/32 scram-sha-256")]
    [InlineData("host \"a trust b trust\" all 127.0.0.1/32 scram-sha-256")]
    [InlineData("local trust all peer")]
    [InlineData("host all all 127.0.0.1/32 ident map=trust")]
    [InlineData("# host all all 127.0.0.1/32 trust")]
    [InlineData("include_if_exists trust")]
    public void Records_that_do_not_use_trust_are_left_alone_even_when_a_name_in_them_is_trust(string record)
    {
        Assert.False(PgHbaConf.TryReplaceTrust(record, out var upgraded));

        Assert.Equal(record, upgraded);
    }

    private static string[] Records(string file) =>
        [.. file.Split('\n').Where(line => line.Length > 0 && !line.StartsWith('#'))];

    private static string[] Comments(string file) =>
        [.. file.Split('\n').Where(line => line.StartsWith('#'))];
}
