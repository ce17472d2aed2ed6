using Npgsql;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>The webhook's SQL of <c>user_preferences</c>: who a phone is linked to, and linking one.</summary>
internal static class UserPreferencesTable
{
    /// <returns>The linked user of each phone that is linked; phones linked to nobody are absent.</returns>
    public static async Task<Dictionary<string, Guid>> FindLinkedAsync(
        NpgsqlDataSource dataSource, IReadOnlyCollection<string> phones, CancellationToken cancellationToken)
    {
        await using var query = dataSource.CreateCommand(
            "SELECT whatsapp_phone, user_id FROM user_preferences WHERE whatsapp_phone = ANY($1)");
        query.Parameters.Add(Texts(phones));
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        var linked = new Dictionary<string, Guid>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            linked[reader.GetString(0)] = reader.GetGuid(1);
        }

        return linked;
    }

    /// <summary>Links the phone to the user, taking it from whoever had it (the code proves the sender holds it).</summary>
    /// <returns>Whose the phone was, if another user's, and which phone the user had before, if another.</returns>
    public static async Task<PhoneLinkChange> LinkAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, string phone, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                Command(
                    "UPDATE user_preferences SET whatsapp_phone = NULL, updated_at = now() WHERE whatsapp_phone = $2 AND user_id <> $1 RETURNING user_id",
                    Value(userId),
                    Text(phone)),
                Command(
                    """
                    WITH previous AS (SELECT whatsapp_phone FROM user_preferences WHERE user_id = $1)
                    INSERT INTO user_preferences (user_id, whatsapp_phone) VALUES ($1, $2)
                    ON CONFLICT (user_id) DO UPDATE SET whatsapp_phone = excluded.whatsapp_phone, updated_at = now()
                    RETURNING (SELECT whatsapp_phone FROM previous)
                    """,
                    Value(userId),
                    Text(phone)),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);

        // The phone is unique: at most one user had it.
        var previousOwner = await reader.ReadAsync(cancellationToken) ? reader.GetGuid(0) : (Guid?)null;
        await reader.NextResultAsync(cancellationToken);
        var previousPhone = await reader.ReadAsync(cancellationToken) && !reader.IsDBNull(0) ? reader.GetString(0) : null;
        return new PhoneLinkChange(previousOwner, previousPhone == phone ? null : previousPhone);
    }
}

/// <summary>What linking a phone changed besides the link itself.</summary>
/// <param name="PreviousOwner">The user the phone was taken from.</param>
/// <param name="PreviousPhone">The phone the linking user had before, now linked to nobody.</param>
internal sealed record PhoneLinkChange(Guid? PreviousOwner, string? PreviousPhone);
