using System.Diagnostics;
using System.Net;
using System.Text;
using Ava.Data.WhatsApp;
using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Sending;
using Ava.WebhookApi.WhatsApp.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Ava.Tests.Integration;

/// <summary>
/// Nothing Meta sends is lost to its content, a poison delivery costs only itself, a dead instance's work moves on
/// within seconds, and the webhook holds no more database power than it needs.
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class WebhookHardeningTests(AvaStackFixture stack)
{
    private readonly WhatsAppDriver _whatsApp = new(stack);
    private readonly AvaDatabase _database = new(stack);

    [Fact]
    public async Task A_text_of_2048_emoji_is_logged_whole_and_echoed_cut_at_a_character_boundary()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        var text = string.Concat(Enumerable.Repeat("😀", 2048));

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, text))));

        var echo = Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body!;
        Assert.Equal("[Echo] " + string.Concat(Enumerable.Repeat("😀", 2044)), echo);
        Assert.Equal(
            [text],
            await WhatsAppDriver.EventuallyAsync(
                () => _database.QueryAsync<string>("SELECT content FROM messages WHERE user_id = $1 AND role = 'user'", userId),
                rows => rows.Count == 1));
    }

    [Fact]
    public async Task A_nul_and_a_lone_surrogate_are_kept_escaped_answered_and_sink_none_of_their_delivery_mates()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        var body = WhatsAppDriver.Notification(WhatsAppDriver.Messages(
            WhatsAppDriver.Text(phone, "before NUL_HERE after"),
            WhatsAppDriver.Text(phone, "half LONE_HERE a pair"),
            WhatsAppDriver.Text(phone, "plain")));
        body = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body)
            .Replace("NUL_HERE", @"\u0000", StringComparison.Ordinal)
            .Replace("LONE_HERE", @"\ud800", StringComparison.Ordinal));

        using var response = await _whatsApp.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            [@"[Echo] before \u0000 after", @"[Echo] half \ud800 a pair", "[Echo] plain"],
            (await _whatsApp.AcceptedSendsToAsync(phone, 3)).Select(s => s.Body).Order(StringComparer.Ordinal));
        Assert.Equal(6, await _database.ScalarAsync<long>("SELECT count(*) FROM messages WHERE user_id = $1", userId));
    }

    [Fact]
    public async Task A_delivery_whose_writes_fail_is_retried_on_its_own_and_its_batch_mates_are_answered()
    {
        var poisoned = WhatsAppDriver.Text(WhatsAppDriver.NewPhone(), "poison");
        await using (await _database.PoisonAsync(poisoned.Id!))
        {
            var mates = Enumerable.Range(0, 5).Select(_ => WhatsAppDriver.NewPhone()).ToArray();
            var bodies = mates.Select(p => WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(p, "mate"))))
                .Prepend(WhatsAppDriver.Notification(WhatsAppDriver.Messages(poisoned)));
            var responses = await Task.WhenAll(bodies.Select(_whatsApp.PostSignedAsync));
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));

            foreach (var mate in mates)
            {
                Assert.Single(await _whatsApp.AcceptedSendsToAsync(mate, 1));
            }

            var failing = await WhatsAppDriver.EventuallyAsync(
                () => _database.QueryAsync<string>(
                    "SELECT error FROM inbound_deliveries WHERE body = $1 AND processed_at IS NULL AND attempts >= 1",
                    WhatsAppDriver.Notification(WhatsAppDriver.Messages(poisoned))),
                rows => rows.Count == 1);
            Assert.Contains("poisoned for a test", Assert.Single(failing), StringComparison.Ordinal);
            Assert.Empty(await _whatsApp.SendsToAsync(poisoned.From!));
        }

        // Once the fault is gone, the delivery's next retry answers it.
        Assert.Single(await _whatsApp.AcceptedSendsToAsync(poisoned.From!, 1));
    }

    [Fact]
    public async Task A_delivery_held_by_an_instance_that_died_a_moment_ago_is_answered_within_seconds()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        var body = WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "taken over")));
        var started = Stopwatch.StartNew();

        // As an instance leaves it when it dies right after claiming: held, with a fresh lease it will never renew.
        await _database.ExecuteAsync(
            "INSERT INTO inbound_deliveries (body, claim_token, locked_until) VALUES ($1, gen_random_uuid(), now() + interval '14 seconds')", body);

        Assert.Equal("[Echo] taken over", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(13), TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task A_reply_held_by_an_instance_that_died_a_moment_ago_is_sent_within_seconds_once_no_status_shows_it_was()
    {
        var phone = WhatsAppDriver.NewPhone();
        var started = Stopwatch.StartNew();

        await HeldReplyAsync(phone, "held by the dead", claimFor: "14 seconds");

        // The lease, then the wait for a status in case the dead holder had sent it.
        Assert.Equal("held by the dead", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(13) + ReplyRetryPolicy.InDoubtDelay, TimeSpan.FromSeconds(26));
    }

    [Fact]
    public async Task A_reply_taken_over_from_a_holder_that_sent_it_just_before_dying_is_recorded_from_its_late_status_and_not_sent_again()
    {
        var phone = WhatsAppDriver.NewPhone();
        var (replyId, key) = await HeldReplyAsync(phone, "sent by the dead", claimFor: "3 seconds");

        // Meta's status comes a couple of seconds after the claim ran out: later than a takeover, within the wait.
        await Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        using var status = await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Statuses(
            WhatsAppDriver.Status("wamid.LATE" + Guid.NewGuid().ToString("N"), "sent", phone, callbackData: new ReplyReference(replyId, key).Format()))));
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);

        await Task.Delay(TimeSpan.FromSeconds(6), TestContext.Current.CancellationToken);
        Assert.Empty(await _whatsApp.SendsToAsync(phone));
        Assert.Equal(["sent"], await _database.QueryAsync<string>("SELECT status::text FROM outbound_replies WHERE id = $1", replyId));
    }

    [Fact]
    public async Task A_send_in_doubt_is_not_sent_again_when_its_number_recovers_but_waits_for_its_status()
    {
        var (slowPhone, _) = await _database.LinkedUserAsync();
        var (otherPhone, _) = await _database.LinkedUserAsync();
        await _whatsApp.AnswerNextSendLateAsync(slowPhone, seconds: 30);

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(slowPhone, "slow graph"))));
        var send = Assert.Single(await _whatsApp.AcceptedSendsToAsync(slowPhone, 1));

        // Its send times out (10 s) as in doubt; then another reply of the number is accepted, which ends the number's
        // failure and makes its waiting replies due at once — all but the one in doubt.
        var attempts = await WhatsAppDriver.EventuallyAsync(
            () => _database.QueryAsync<int>("SELECT attempts FROM outbound_replies WHERE to_phone = $1", slowPhone), a => a.SequenceEqual([1]), TimeSpan.FromSeconds(20));
        Assert.Equal([1], attempts);
        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(otherPhone, "fast graph"))));
        await _whatsApp.AcceptedSendsToAsync(otherPhone, 1);
        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Statuses(
            WhatsAppDriver.Status(send.Wamid!, "sent", slowPhone, callbackData: send.CallbackData))));

        await Task.Delay(TimeSpan.FromSeconds(6), TestContext.Current.CancellationToken);
        Assert.Single(await _whatsApp.SendsToAsync(slowPhone));
        Assert.Equal(["sent"], await _database.QueryAsync<string>("SELECT status::text FROM outbound_replies WHERE to_phone = $1", slowPhone));
    }

    [Fact]
    public async Task A_delivery_whose_cut_off_holder_keeps_its_transaction_open_is_answered_within_seconds()
    {
        var (phone, _) = await _database.LinkedUserAsync();
        var message = WhatsAppDriver.Text(phone, "taken over from a cut-off holder");
        var started = Stopwatch.StartNew();

        // As an instance leaves it when its network is cut mid-batch: the claim's lease is never renewed, and its
        // session, connected as the webhook connects, keeps a transaction open on the delivery's row and on the
        // message it was inserting, idle, since the instance is no longer there to end it.
        var deliveryId = await _database.ScalarAsync<long>(
            "INSERT INTO inbound_deliveries (body, claim_token, locked_until) VALUES ($1, gen_random_uuid(), now() + interval '14 seconds') RETURNING id",
            WhatsAppDriver.Notification(WhatsAppDriver.Messages(message)));
        var holderSettings = new NpgsqlDataSourceBuilder(await WebhookConnectionStringAsync());
        WebhookDataSource.Configure(holderSettings);
        await using var holder = holderSettings.Build();
        await using var connection = await holder.OpenConnectionAsync(TestContext.Current.CancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
        foreach (var (sql, parameters) in new (string, object[])[]
        {
            ("SELECT id FROM inbound_deliveries WHERE id = $1 FOR UPDATE", [deliveryId]),
            ("INSERT INTO inbound_messages (wamid, delivery_id, type, content) VALUES ($1, $2, 'text', 'cut off')", [message.Id!, deliveryId]),
        })
        {
            await using var hold = new NpgsqlCommand(sql, connection, transaction);
            foreach (var parameter in parameters)
            {
                hold.Parameters.Add(new NpgsqlParameter { Value = parameter });
            }

            await hold.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        // Taken over once the lease has run out, as from an instance that died, not once the operating system gives
        // up on the connection (hours).
        Assert.Equal("[Echo] taken over from a cut-off holder", Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1)).Body);
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(13), TimeSpan.FromSeconds(22));
    }

    [Fact]
    public async Task A_reply_whose_holder_died_after_meta_accepted_it_is_recorded_from_its_status_and_not_sent_again()
    {
        var phone = WhatsAppDriver.NewPhone();
        var wamid = "wamid.ACCEPTED" + Guid.NewGuid().ToString("N");

        // Sent by an instance that died before recording it; its claim runs out in three seconds.
        var (replyId, key) = await HeldReplyAsync(phone, "accepted before the crash", claimFor: "3 seconds");
        using var status = await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Statuses(
            WhatsAppDriver.Status(wamid, "sent", phone, callbackData: new ReplyReference(replyId, key).Format()))));
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);

        Assert.Equal(
            ("sent", wamid),
            await WhatsAppDriver.EventuallyAsync(
                async () => (await _database.QueryAsync(
                    "SELECT status::text, wamid FROM outbound_replies WHERE id = $1",
                    row => (Status: row.GetString(0), Wamid: row.IsDBNull(1) ? null : row.GetString(1)),
                    replyId)).Single(),
                row => row.Status == "sent"));
        await Task.Delay(TimeSpan.FromSeconds(6), TestContext.Current.CancellationToken);
        Assert.Empty(await _whatsApp.SendsToAsync(phone));
    }

    [Fact]
    public async Task A_status_naming_a_replys_id_without_its_key_or_for_another_recipient_does_not_mark_it_sent_and_it_goes()
    {
        var phone = WhatsAppDriver.NewPhone();
        var (replyId, key) = await HeldReplyAsync(phone, "still to be sent", claimFor: "3 seconds");

        // As after a restore, or from another deployment on the same test number: the same id, another reply.
        using var otherKey = await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Statuses(
            WhatsAppDriver.Status("wamid.OTHER" + Guid.NewGuid().ToString("N"), "sent", phone, callbackData: new ReplyReference(replyId, Guid.NewGuid()).Format()))));
        using var otherRecipient = await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Statuses(
            WhatsAppDriver.Status("wamid.ELSEWHERE" + Guid.NewGuid().ToString("N"), "sent", WhatsAppDriver.NewPhone(), callbackData: new ReplyReference(replyId, key).Format()))));
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (otherKey.StatusCode, otherRecipient.StatusCode));

        var send = Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1));
        Assert.Equal("still to be sent", send.Body);
        Assert.Equal(
            [send.Wamid!],
            await WhatsAppDriver.EventuallyAsync(
                () => _database.QueryAsync<string>("SELECT wamid FROM outbound_replies WHERE id = $1 AND status = 'sent'", replyId),
                wamids => wamids.Count == 1));
    }

    /// <summary>A reply to the phone held by an instance that is gone; its claim runs out after <paramref name="claimFor"/>.</summary>
    private async Task<(long Id, Guid Key)> HeldReplyAsync(string phone, string body, string claimFor)
    {
        var reply = await _database.QueryAsync(
            $"""
            INSERT INTO outbound_replies (inbound_wamid, phone_number_id, to_phone, body, claim_token, locked_until)
            VALUES ($1, $2, $3, $4, gen_random_uuid(), now() + interval '{claimFor}')
            RETURNING id, reference
            """,
            row => (row.GetInt64(0), row.GetGuid(1)),
            WhatsAppDriver.NewWamid(), WhatsAppDriver.PhoneNumberId, phone, body);
        return reply.Single();
    }

    [Fact]
    public async Task A_send_whose_answer_is_lost_is_not_sent_again_once_its_status_shows_meta_accepted_it()
    {
        var (phone, userId) = await _database.LinkedUserAsync();
        await _whatsApp.AnswerNextSendLateAsync(phone, seconds: 30);

        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Messages(WhatsAppDriver.Text(phone, "answered late"))));
        var send = Assert.Single(await _whatsApp.AcceptedSendsToAsync(phone, 1));
        Assert.Equal("[Echo] answered late", send.Body);
        Assert.NotNull(send.CallbackData);
        await _whatsApp.PostSignedAsync(WhatsAppDriver.Notification(WhatsAppDriver.Statuses(
            WhatsAppDriver.Status(send.Wamid!, "delivered", phone, callbackData: send.CallbackData))));

        // The send times out after 10 s and would be tried again at once if the status had not recorded it.
        await Task.Delay(TimeSpan.FromSeconds(17), TestContext.Current.CancellationToken);
        Assert.Single(await _whatsApp.SendsToAsync(phone), s => s.HttpStatus == 200);
        Assert.Equal(
            [(send.Wamid, "delivered")],
            await _database.QueryAsync(
                "SELECT external_id, delivery_status::text FROM messages WHERE user_id = $1 AND role = 'assistant'",
                row => (row.IsDBNull(0) ? null : row.GetString(0), row.IsDBNull(1) ? null : row.GetString(1)),
                userId));
    }

    [Fact]
    public async Task The_webhook_logs_in_as_its_own_role_which_cannot_change_the_schema_or_act_as_superuser()
    {
        await using var connection = new NpgsqlConnection(await WebhookConnectionStringAsync());
        await connection.OpenAsync(TestContext.Current.CancellationToken);

        await using (var who = new NpgsqlCommand("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user", connection))
        await using (var reader = await who.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            Assert.True(await reader.ReadAsync(TestContext.Current.CancellationToken));
            Assert.Equal((WebhookDataAccess.LoginRole, false, false), (reader.GetString(0), reader.GetBoolean(1), reader.GetBoolean(2)));
        }

        foreach (var forbidden in new[] { "CREATE TABLE webhook_was_here (id int)", "DROP TABLE messages", "TRUNCATE user_preferences", "DELETE FROM messages" })
        {
            await using var command = new NpgsqlCommand(forbidden, connection);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }
    }

    [Fact]
    public async Task Retention_purges_what_was_handled_after_30_days_and_what_failed_after_90_and_never_what_is_pending()
    {
        // Pending work waits for a retry an hour away, so that the running webhook leaves it pending.
        var tag = Guid.NewGuid().ToString("N");
        byte[] Body(string what) => Encoding.UTF8.GetBytes($"{{\"retention\":\"{tag}-{what}\"}}");
        await _database.ExecuteAsync(
            """
            INSERT INTO inbound_deliveries (body, received_at, processed_at, outcome, locked_until) VALUES
                ($1, now() - interval '40 days', now() - interval '40 days', 'processed', NULL),
                ($2, now() - interval '40 days', NULL, NULL, now() + interval '1 hour'),
                ($3, now() - interval '2 days', now() - interval '2 days', 'processed', NULL),
                ($4, now() - interval '40 days', now() - interval '40 days', 'failed', NULL),
                ($5, now() - interval '100 days', now() - interval '100 days', 'failed', NULL)
            """,
            Body("old"), Body("pending"), Body("recent"), Body("failed"), Body("failedlongago"));
        await _database.ExecuteAsync(
            """
            INSERT INTO inbound_messages (wamid, delivery_id, type, content, processed_at) VALUES
                ($1, 0, 'text', 'old', now() - interval '40 days'),
                ($2, 0, 'text', 'recent', now() - interval '2 days')
            """,
            $"wamid.OLD{tag}", $"wamid.RECENT{tag}");
        await _database.ExecuteAsync(
            """
            INSERT INTO outbound_replies (inbound_wamid, phone_number_id, to_phone, body, status, created_at, next_attempt_at) VALUES
                ($1 || 'old', $2, '15550000001', 'old', 'read', now() - interval '40 days', now() - interval '40 days'),
                ($1 || 'pending', $2, '15550000001', 'pending', 'pending', now() - interval '40 days', now() + interval '1 hour'),
                ($1 || 'recent', $2, '15550000001', 'recent', 'sent', now() - interval '2 days', now() - interval '2 days'),
                ($1 || 'failed', $2, '15550000001', 'failed', 'failed', now() - interval '40 days', now() - interval '40 days'),
                ($1 || 'failedlongago', $2, '15550000001', 'failedlongago', 'failed', now() - interval '100 days', now() - interval '100 days')
            """,
            $"wamid.{tag}.", "retention-" + tag);
        await _database.ExecuteAsync(
            """
            INSERT INTO delivery_status_events (wamid, status, recipient_id, received_at) VALUES
                ($1 || 'old', 'delivered', '15550000001', now() - interval '40 days'),
                ($1 || 'recent', 'delivered', '15550000001', now() - interval '2 days')
            """,
            $"wamid.STATUS{tag}.");
        await _database.ExecuteAsync(
            """
            INSERT INTO conversation_turns (inbound_wamid, user_id, message_id, phone_number_id, to_phone, message_type, content, written_at, expires_at, status, created_at, next_attempt_at)
            SELECT $1 || t.what, gen_random_uuid(), gen_random_uuid(), $2, '15550000001', 'text', t.what, now(), now(), t.status::turn_status, now() - t.age, now() + interval '1 hour'
            FROM (VALUES ('old', 'answered', interval '40 days'), ('pending', 'pending', interval '40 days'), ('recent', 'answered', interval '2 days'),
                         ('failed', 'failed', interval '40 days'), ('failedlongago', 'failed', interval '100 days')) AS t(what, status, age)
            """,
            $"wamid.TURN{tag}.", "retention-" + tag);

        // As the webhook runs it: its own login, which may delete only what retention deletes.
        await using var dataSource = NpgsqlDataSource.Create(await WebhookConnectionStringAsync());
        var purged = await RetentionPurge.RunAsync(
            dataSource, new RetentionPeriods(TimeSpan.FromDays(30), TimeSpan.FromDays(90)), TimeSpan.Zero, TimeProvider.System, TestContext.Current.CancellationToken);

        Assert.True(purged is { Deliveries: >= 2, DedupRecords: >= 1, Replies: >= 2, StatusEvents: >= 1, Turns: >= 2 }, $"purged {purged}");
        Assert.Equal(
            ["failed", "pending", "recent"],
            (await _database.QueryAsync<byte[]>("SELECT body FROM inbound_deliveries WHERE convert_from(body, 'UTF8') LIKE $1", $"%{tag}%"))
                .Select(b => Encoding.UTF8.GetString(b).Split('-')[^1].TrimEnd('"', '}'))
                .Order());
        Assert.Equal(
            [$"wamid.RECENT{tag}"],
            await _database.QueryAsync<string>("SELECT wamid FROM inbound_messages WHERE wamid LIKE $1", $"%{tag}"));
        Assert.Equal(
            ["failed", "pending", "recent"],
            await _database.QueryAsync<string>("SELECT body FROM outbound_replies WHERE phone_number_id = $1 ORDER BY body", "retention-" + tag));
        Assert.Equal(
            [$"wamid.STATUS{tag}.recent"],
            await _database.QueryAsync<string>("SELECT wamid FROM delivery_status_events WHERE wamid LIKE $1", $"wamid.STATUS{tag}.%"));
        Assert.Equal(
            ["failed", "pending", "recent"],
            await _database.QueryAsync<string>("SELECT content FROM conversation_turns WHERE phone_number_id = $1 ORDER BY content", "retention-" + tag));
    }

    /// <summary>The connection string the AppHost gives the webhook: its own login.</summary>
    private async Task<string> WebhookConnectionStringAsync()
    {
        var webhook = stack.App.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .OfType<ProjectResource>().Single(r => r.Name == "webhookapi");
        var configuration = await ExecutionConfigurationBuilder.Create(webhook)
            .WithEnvironmentVariablesConfig()
            .BuildAsync(stack.App.Services.GetRequiredService<DistributedApplicationExecutionContext>(), NullLogger.Instance, TestContext.Current.CancellationToken);
        return configuration.EnvironmentVariables.Single(v => v.Key == "ConnectionStrings__ava").Value;
    }
}
