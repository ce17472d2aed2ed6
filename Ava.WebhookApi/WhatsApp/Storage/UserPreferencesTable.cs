using Ava.WebhookApi.WhatsApp.Model;
using Npgsql;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>
/// The webhook's SQL of <c>user_preferences</c>: who a WhatsApp sender — a phone, a business-scoped user id — is
/// linked to; linking a WhatsApp account; and keeping an account's user id as Meta reports it.
/// </summary>
internal static class UserPreferencesTable
{
    /// <param name="senders">Normalised phones and business-scoped user ids.</param>
    /// <returns>The linked account of each sender that is linked; senders linked to nobody are absent.</returns>
    public static async Task<Dictionary<string, LinkedAccount>> FindLinkedAsync(
        NpgsqlDataSource dataSource, IReadOnlyCollection<string> senders, CancellationToken cancellationToken)
    {
        await using var query = dataSource.CreateCommand(
            "SELECT whatsapp_phone, whatsapp_user_id, user_id FROM user_preferences WHERE whatsapp_phone = ANY($1) OR whatsapp_user_id = ANY($1)");
        query.Parameters.Add(Texts(senders));
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        var asked = senders as IReadOnlySet<string> ?? senders.ToHashSet(StringComparer.Ordinal);
        var linked = new Dictionary<string, LinkedAccount>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            var account = new LinkedAccount(reader.GetGuid(2), reader.IsDBNull(1) ? null : reader.GetString(1));
            foreach (var column in new[] { 0, 1 })
            {
                if (!reader.IsDBNull(column) && reader.GetString(column) is var sender && asked.Contains(sender))
                {
                    linked[sender] = account;
                }
            }
        }

        return linked;
    }

    /// <summary>
    /// Links the sender's WhatsApp account — its phone, its user id, or both — to the code's user, taking it from
    /// whoever had either (the code proves the sender holds it): only what matched is taken, since a phone number
    /// passes from person to person and the account it was linked for keeps its own user id (with which its user
    /// still writes from a new number or a username). The user's previous account is replaced, except what
    /// the link does not contradict: a sender without a phone keeps the user's phone if it is the one the code
    /// claims; a sender without a user id keeps the user's user id if the phone is the same.
    /// </summary>
    /// <returns>Whose the account was, and every phone and user id whose owner may have changed.</returns>
    public static async Task<WhatsAppLinkChange> LinkAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, LinkAttempt link, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                Command(
                    """
                    UPDATE user_preferences p
                    SET whatsapp_phone = CASE WHEN p.whatsapp_phone = $2 THEN NULL ELSE p.whatsapp_phone END,
                        whatsapp_user_id = CASE WHEN p.whatsapp_user_id = $3 THEN NULL ELSE p.whatsapp_user_id END,
                        whatsapp_username = CASE WHEN p.whatsapp_user_id = $3 THEN NULL ELSE p.whatsapp_username END,
                        updated_at = now()
                    FROM (SELECT user_id, whatsapp_phone, whatsapp_user_id FROM user_preferences
                          WHERE user_id <> $1 AND (whatsapp_phone = $2 OR whatsapp_user_id = $3)
                          ORDER BY user_id
                          FOR UPDATE) taken
                    WHERE p.user_id = taken.user_id
                    RETURNING p.user_id, taken.whatsapp_phone, taken.whatsapp_user_id
                    """,
                    Value(userId),
                    Text(link.Phone),
                    Text(link.WhatsAppUserId)),
                Command(
                    """
                    WITH previous AS (SELECT whatsapp_phone, whatsapp_user_id, whatsapp_username FROM user_preferences WHERE user_id = $1)
                    INSERT INTO user_preferences (user_id, whatsapp_phone, whatsapp_user_id, whatsapp_username)
                    VALUES (
                        $1,
                        coalesce($2, (SELECT whatsapp_phone FROM previous WHERE whatsapp_phone = $5)),
                        coalesce($3, (SELECT whatsapp_user_id FROM previous WHERE whatsapp_phone = $2)),
                        CASE WHEN $3 IS NOT NULL THEN $4 ELSE (SELECT whatsapp_username FROM previous WHERE whatsapp_phone = $2) END)
                    ON CONFLICT (user_id) DO UPDATE SET
                        whatsapp_phone = excluded.whatsapp_phone,
                        whatsapp_user_id = excluded.whatsapp_user_id,
                        whatsapp_username = excluded.whatsapp_username,
                        updated_at = now()
                    RETURNING (SELECT whatsapp_phone FROM previous), (SELECT whatsapp_user_id FROM previous)
                    """,
                    Value(userId),
                    Text(link.Phone),
                    Text(link.WhatsAppUserId),
                    Text(link.Username),
                    Text(link.ClaimedPhone)),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);

        var previousOwners = new List<Guid>();
        var changed = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            previousOwners.Add(reader.GetGuid(0));
            changed.AddRange(Strings(reader, 1, 2));
        }

        await reader.NextResultAsync(cancellationToken);
        if (await reader.ReadAsync(cancellationToken))
        {
            changed.AddRange(Strings(reader, 0, 1));
        }

        changed.AddRange(new[] { link.Phone, link.WhatsAppUserId }.OfType<string>());
        return new WhatsAppLinkChange(previousOwners, [.. changed.Distinct(StringComparer.Ordinal)]);
    }

    /// <summary>
    /// Records each user id with the linked account of the phone Meta paired it with — only where the account records
    /// none yet and nobody else has it: a late delivery of an id since replaced must not bring the old one back.
    /// </summary>
    /// <returns>The user ids recorded, and the phones whose link now records them.</returns>
    public static async Task<List<string>> AdoptUserIdsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<UserIdAdoption> adoptions, CancellationToken cancellationToken)
    {
        await using var adopt = new NpgsqlCommand(
            """
            UPDATE user_preferences p
            SET whatsapp_user_id = a.whatsapp_user_id, whatsapp_username = a.username, updated_at = now()
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS a(user_id, phone, whatsapp_user_id, username)
            WHERE p.user_id = a.user_id AND p.whatsapp_phone = a.phone AND p.whatsapp_user_id IS NULL
              AND NOT EXISTS (SELECT 1 FROM user_preferences o WHERE o.whatsapp_user_id = a.whatsapp_user_id)
            RETURNING a.whatsapp_user_id, a.phone
            """,
            connection,
            transaction);
        adopt.Parameters.Add(Uuids(adoptions.Select(a => (Guid?)a.UserId)));
        adopt.Parameters.Add(Texts(adoptions.Select(a => a.Phone)));
        adopt.Parameters.Add(Texts(adoptions.Select(a => a.WhatsAppUserId)));
        adopt.Parameters.Add(Texts(adoptions.Select(a => a.Username)));
        await using var reader = await adopt.ExecuteReaderAsync(cancellationToken);
        var adopted = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            adopted.AddRange(Strings(reader, 0, 1));
        }

        return adopted;
    }

    /// <summary>
    /// Moves each link from a user's replaced user id to their current one, in the order Meta reported them (one
    /// statement each, so that a chain of replacements in one batch follows through). A replacement already applied,
    /// or whose new id is linked to somebody else, changes nothing.
    /// </summary>
    /// <returns>The user ids of the links moved, old and new.</returns>
    public static async Task<List<string>> ReplaceUserIdsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<UserIdChange> changes, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var change in changes)
        {
            batch.BatchCommands.Add(Command(
                """
                UPDATE user_preferences SET whatsapp_user_id = $2, updated_at = now()
                WHERE whatsapp_user_id = $1 AND NOT EXISTS (SELECT 1 FROM user_preferences WHERE whatsapp_user_id = $2)
                """,
                Text(change.Previous),
                Text(change.Current)));
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
        return
        [
            .. changes
                .Where((_, i) => batch.BatchCommands[i].RecordsAffected > 0)
                .SelectMany(c => new[] { c.Previous, c.Current }),
        ];
    }

    /// <summary>
    /// Moves each link from a user's previous phone number to their new one, in the order Meta reported them, when
    /// the link is that user's: it records no user id, or the one they wrote with (before or after a replacement in
    /// the same batch). Should another account hold the new number, the old one is dropped from the link all the
    /// same — it now belongs to nobody the link was made for — and the other account keeps the new one.
    /// </summary>
    /// <param name="userIdChanges">The batch's user id replacements, applied before: the link may record the new id.</param>
    /// <returns>The phones of the links moved, old and new.</returns>
    public static async Task<List<string>> MovePhonesAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        IReadOnlyList<PhoneNumberChange> changes,
        IReadOnlyList<UserIdChange> userIdChanges,
        CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var change in changes)
        {
            string[] userIds = change.UserId is { } userId
                ? [userId, .. userIdChanges.Where(c => c.Previous == userId).Select(c => c.Current)]
                : [];
            batch.BatchCommands.Add(Command(
                """
                UPDATE user_preferences
                SET whatsapp_phone = CASE WHEN EXISTS (SELECT 1 FROM user_preferences WHERE whatsapp_phone = $2) THEN NULL ELSE $2 END,
                    updated_at = now()
                WHERE whatsapp_phone = $1 AND (cardinality($3::text[]) = 0 OR whatsapp_user_id IS NULL OR whatsapp_user_id = ANY($3))
                RETURNING $1, $2
                """,
                Text(change.Previous),
                Text(change.Current),
                Texts(userIds)));
        }

        return await ReadChangedSendersAsync(batch, cancellationToken);
    }

    /// <summary>Both columns of every row each statement of the batch returned.</summary>
    private static async Task<List<string>> ReadChangedSendersAsync(NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        var changed = new List<string>();
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        do
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                changed.AddRange(Strings(reader, 0, 1));
            }
        }
        while (await reader.NextResultAsync(cancellationToken));

        return changed;
    }

    private static IEnumerable<string> Strings(NpgsqlDataReader reader, params int[] columns) =>
        [.. columns.Where(c => !reader.IsDBNull(c)).Select(reader.GetString)];
}

/// <summary>What linking a WhatsApp account changed besides the link itself.</summary>
/// <param name="PreviousOwners">The users the account (its phone or its user id) was taken from.</param>
/// <param name="ChangedSenders">Every phone and user id whose linked user may have changed: their cached lookups go.</param>
internal sealed record WhatsAppLinkChange(IReadOnlyList<Guid> PreviousOwners, IReadOnlyList<string> ChangedSenders);
