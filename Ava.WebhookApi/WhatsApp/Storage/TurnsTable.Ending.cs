using Ava.Data.WhatsApp;
using Ava.WebhookApi.WhatsApp.Model;
using Npgsql;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>How a claimed turn ends: its status, and the replies (with their history lines) it leaves for the outbox.</summary>
/// <param name="HandOver">Its replies may go to this instance's sender already claimed (a single reply: nothing to keep in order).</param>
internal sealed record TurnEnding(
    ClaimedTurn Turn, ConversationTurnStatus Status, string? Error, IReadOnlyList<HistoryRow> History, IReadOnlyList<ReplyRow> Replies, bool HandOver);

// Ending turns with the replies they leave for the outbox: many turns in one transaction, each fenced by its claim.
internal static partial class TurnsTable
{
    /// <summary>
    /// Ends turns — answered or failed — with their replies and those replies' history lines, many in one transaction,
    /// each only while its claim still holds it: a turn answered twice (its responder asked again after a crash, or
    /// by a holder whose lease was taken over) writes its replies once.
    /// </summary>
    /// <param name="handedToken">
    /// The claim under which the replies of <paramref name="endings"/> that <see cref="TurnEnding.HandOver"/> are
    /// stored, for this instance's sender; null: every reply is stored unclaimed.
    /// </param>
    /// <returns>The turns ended (the others' claims were lost: nothing of theirs was written), and the replies stored under <paramref name="handedToken"/>.</returns>
    public static async Task<(HashSet<long> Ended, List<ClaimedReply> Handed)> EndAsync(
        NpgsqlDataSource dataSource, IReadOnlyList<TurnEnding> endings, Guid? handedToken, TimeSpan lease, CancellationToken cancellationToken)
    {
        // In id order: the order in which every statement that updates many turns locks them.
        var ordered = endings.OrderBy(e => e.Turn.Id).ToList();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var ended = new HashSet<long>();
        await using (var end = new NpgsqlCommand(
            """
            UPDATE conversation_turns t
            SET status = e.status, error = e.error, answered_at = now(), claim_token = NULL, locked_until = NULL,
                attempts = t.attempts + CASE WHEN e.status = 'failed'::turn_status THEN 1 ELSE 0 END
            FROM unnest($1::bigint[], $2::uuid[], $3::turn_status[], $4::text[]) AS e(id, token, status, error)
            WHERE t.id = e.id AND t.claim_token = e.token AND t.status = 'pending'
            RETURNING t.id
            """,
            connection,
            transaction))
        {
            end.Parameters.Add(Ids(ordered.Select(e => e.Turn.Id)));
            end.Parameters.Add(Uuids(ordered.Select(e => (Guid?)e.Turn.Token)));
            end.Parameters.Add(new NpgsqlParameter { DataTypeName = "turn_status[]", Value = ordered.Select(e => e.Status).ToArray() });
            end.Parameters.Add(Texts(ordered.Select(e => e.Error)));
            await using var reader = await end.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ended.Add(reader.GetInt64(0));
            }
        }

        var written = ordered.Where(e => ended.Contains(e.Turn.Id)).ToList();
        List<HistoryRow> history = [.. written.SelectMany(e => e.History)];
        List<ReplyRow> handed = [.. written.Where(e => e.HandOver && handedToken is not null).SelectMany(e => e.Replies)];
        List<ReplyRow> swept = [.. written.Where(e => !e.HandOver || handedToken is null).SelectMany(e => e.Replies)];
        List<ClaimedReply> claimed = [];
        if (history.Count + handed.Count + swept.Count > 0)
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            if (handed.Count > 0)
            {
                batch.BatchCommands.Add(OutboxTable.Insert(handed, handedToken, lease));
            }

            if (swept.Count > 0)
            {
                batch.BatchCommands.Add(OutboxTable.Insert(swept));
            }

            if (history.Count > 0)
            {
                batch.BatchCommands.Add(MessagesTable.Insert(history));
            }

            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            if (handed.Count > 0)
            {
                claimed = await OutboxTable.ReadClaimedAsync(reader, handedToken!.Value, cancellationToken);
            }

            while (await reader.NextResultAsync(cancellationToken))
            {
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return (ended, claimed);
    }
}
