using NpgsqlTypes;

namespace Ava.Data.WhatsApp;

/// <summary>
/// How far a reply got, in order: a later member never gives way to an earlier one, and <see cref="Failed"/> is
/// final. Stored as the Postgres enum <c>delivery_status</c>, whose order is this order, so GREATEST and max()
/// give the current status of a reply from everything known about it.
/// </summary>
public enum DeliveryStatus
{
    [PgName("pending")]
    Pending,

    [PgName("sent")]
    Sent,

    [PgName("delivered")]
    Delivered,

    [PgName("read")]
    Read,

    [PgName("failed")]
    Failed,
}
