using Ava.WebhookApi.WhatsApp.Model;
using Npgsql;
using static Ava.WebhookApi.WhatsApp.Storage.SqlParameters;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>The SQL of <c>delivery_status_events</c>: every status Meta reported, once per (wamid, status).</summary>
internal static class StatusEventsTable
{
    /// <param name="statuses">Distinct, in (wamid, status) order.</param>
    public static NpgsqlBatchCommand Insert(IReadOnlyList<IncomingStatus> statuses) => Command(
        """
        INSERT INTO delivery_status_events (wamid, status, occurred_at, recipient_id, error_code, error_title, recipient_user_id)
        SELECT * FROM unnest($1::text[], $2::delivery_status[], $3::timestamptz[], $4::text[], $5::integer[], $6::text[], $7::text[])
        ON CONFLICT (wamid, status) DO NOTHING
        """,
        Texts(statuses.Select(s => s.Wamid)),
        Enums(statuses.Select(s => s.Status)),
        Times(statuses.Select(s => s.OccurredAt)),
        Texts(statuses.Select(s => s.RecipientId)),
        Integers(statuses.Select(s => s.ErrorCode)),
        Texts(statuses.Select(s => s.ErrorTitle)),
        Texts(statuses.Select(s => s.RecipientUserId)));
}
