using System.Diagnostics;
using Npgsql;

namespace Ava.Benchmarks;

/// <summary>
/// What the benchmarks do directly in Ava's database, as the tables' owner: set-based seeding (one statement per
/// table, never row by row) and the durable-commit baseline.
/// </summary>
public sealed class BenchmarkDatabase(string connectionString)
{
    /// <summary>Postgres's durability settings, to print beside the figures they explain.</summary>
    public async Task<string> DescribeDurabilityAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT 'fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit')", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>How many deliveries Ava stored and how many distinct messages passed its exactly-once gate.</summary>
    public async Task<(long Deliveries, long Messages)> CountDeliveriesAndMessagesAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT (SELECT count(*) FROM inbound_deliveries), (SELECT count(*) FROM inbound_messages)", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Where the media Ava recorded stands: how much is kept, how fast it was kept, how long each waited.</summary>
    public async Task<MediaAccount> AccountMediaAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT count(*),
                   count(*) FILTER (WHERE status = 'stored'),
                   count(*) FILTER (WHERE status = 'pending'),
                   count(*) FILTER (WHERE status IN ('failed', 'too_large')),
                   coalesce(sum(size) FILTER (WHERE status = 'stored'), 0)::bigint,
                   coalesce(extract(epoch FROM max(stored_at) - min(created_at)), 0)::float8,
                   coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - created_at)), 'NaN')::float8,
                   coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - created_at)), 'NaN')::float8,
                   pg_total_relation_size('media_chunks')
            FROM media_files
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new MediaAccount(
            reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4),
            reader.GetDouble(5), reader.GetDouble(6), reader.GetDouble(7), reader.GetInt64(8));
    }

    /// <summary>Links users 0 … count-1 to the phones <c>firstPhone + i</c>.</summary>
    public async Task SeedLinkedUsersAsync(int count, long firstPhone)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO user_preferences (user_id, whatsapp_phone)
            SELECT gen_random_uuid(), ($2 + i)::text FROM generate_series(0, $1 - 1) AS i
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = count });
        command.Parameters.Add(new NpgsqlParameter { Value = firstPhone });
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// The price of one durable commit here: single-row INSERTs in autocommit from one connection. A scratch table of
    /// its own, not a temporary one: Postgres does not flush the WAL at commit for temporary tables.
    /// </summary>
    public async Task<(double PerSecond, Latencies LatencyMs)> MeasureSingleRowCommitsAsync(TimeSpan duration)
    {
        await using var connection = await OpenAsync();
        await using (var create = new NpgsqlCommand(
            "CREATE TABLE benchmark_commit_probe (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())",
            connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        var samples = new LatencySamples();
        long count = 0;
        var started = Stopwatch.GetTimestamp();
        await using (var insert = new NpgsqlCommand("INSERT INTO benchmark_commit_probe DEFAULT VALUES", connection))
        {
            await insert.PrepareAsync();
            while (Stopwatch.GetElapsedTime(started) < duration)
            {
                var start = Stopwatch.GetTimestamp();
                await insert.ExecuteNonQueryAsync();
                samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                count++;
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        await using (var drop = new NpgsqlCommand("DROP TABLE benchmark_commit_probe", connection))
        {
            await drop.ExecuteNonQueryAsync();
        }

        return (count / elapsed.TotalSeconds, samples.Summarise());
    }

    /// <summary>
    /// A WhatsApp history of <paramref name="rows"/> messages over <paramref name="users"/> new users: user and
    /// assistant messages in turn (each pair to the same user), 20–200 characters, spread over the past 30 days, and
    /// for each of Ava's replies its outbound reply, sent; then VACUUM ANALYZE, as autovacuum would do after such a
    /// load. Returns the users' ids and how long the inserts and the vacuum took.
    /// </summary>
    public async Task<(Guid[] UserIds, TimeSpan Inserting, TimeSpan Vacuuming)> SeedHistoryAsync(int rows, int users, long firstPhone)
    {
        await using var connection = await OpenAsync();

        // Earlier versions of Ava computed a reply's status when reading instead of keeping it on the line: the same
        // benchmark measures them too.
        await using var hasStatusColumn = new NpgsqlCommand(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'messages' AND column_name = 'delivery_status')", connection);
        var keepsStatus = (bool)(await hasStatusColumn.ExecuteScalarAsync())!;

        var started = Stopwatch.GetTimestamp();
        await using (var seed = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("CREATE TEMP TABLE benchmark_users AS SELECT i AS n, gen_random_uuid() AS user_id FROM generate_series(0, $1 - 1) AS i")
                {
                    Parameters = { new NpgsqlParameter { Value = users } },
                },
                new NpgsqlBatchCommand(
                    $"""
                    INSERT INTO messages (id, user_id, channel, role, content, created_at, external_id{(keepsStatus ? ", delivery_status" : "")})
                    SELECT md5('benchmark message ' || i)::uuid,
                           u.user_id,
                           'whatsapp',
                           CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END::message_role,
                           substr(repeat('Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod. ', 4),
                                  1 + (i % 40), 20 + (random() * 180)::int),
                           now() - random() * interval '30 days',
                           CASE WHEN i % 2 = 0 THEN 'wamid.SEEDIN' ELSE 'wamid.SEEDOUT' END || i
                           {(keepsStatus ? ", CASE WHEN i % 2 = 0 THEN NULL ELSE 'sent' END::delivery_status" : "")}
                    FROM generate_series(0, $1 - 1) AS i
                    JOIN benchmark_users u ON u.n = (i / 2) % $2
                    """)
                {
                    Parameters = { new NpgsqlParameter { Value = rows }, new NpgsqlParameter { Value = users } },
                },
                new NpgsqlBatchCommand(
                    """
                    INSERT INTO outbound_replies (inbound_wamid, user_id, message_id, phone_number_id, to_phone, body, status,
                                                  attempts, wamid, created_at, sent_at)
                    SELECT 'wamid.SEEDIN' || substr(m.external_id, length('wamid.SEEDOUT') + 1), m.user_id, m.id, $1::text,
                           ($2 + u.n)::text, m.content, 'sent', 1, m.external_id, m.created_at, m.created_at
                    FROM messages m
                    JOIN benchmark_users u ON u.user_id = m.user_id
                    WHERE m.role = 'assistant'
                    """)
                {
                    Parameters =
                    {
                        new NpgsqlParameter { Value = WebhookDeliveries.FirstPhoneNumberId },
                        new NpgsqlParameter { Value = firstPhone },
                    },
                },
            },
        })
        {
            seed.Timeout = 0;
            await seed.ExecuteNonQueryAsync();
        }

        var inserting = Stopwatch.GetElapsedTime(started);
        foreach (var table in new[] { "messages", "outbound_replies" })
        {
            await using var vacuum = new NpgsqlCommand($"VACUUM ANALYZE {table}", connection) { CommandTimeout = 0 };
            await vacuum.ExecuteNonQueryAsync();
        }

        var vacuuming = Stopwatch.GetElapsedTime(started) - inserting;
        var ids = new List<Guid>(users);
        await using var read = new NpgsqlCommand("SELECT user_id FROM benchmark_users ORDER BY n", connection);
        await using var reader = await read.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetGuid(0));
        }

        return ([.. ids], inserting, vacuuming);
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }
}

/// <summary>The media of a run, as Ava's tables record it.</summary>
/// <param name="Seconds">From the first media recorded to the last kept.</param>
/// <param name="WaitP50Seconds">From recorded (the message processed) to kept.</param>
/// <param name="OnDiskBytes">The chunks' table on disk, indexes and TOAST included.</param>
public sealed record MediaAccount(
    long Recorded, long Stored, long Pending, long Given, long StoredBytes, double Seconds, double WaitP50Seconds, double WaitP99Seconds, long OnDiskBytes);
