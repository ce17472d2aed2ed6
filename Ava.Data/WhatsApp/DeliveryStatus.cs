using System.Text.Json.Serialization;
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
    [JsonStringEnumMemberName("pending")]
    Pending,

    [PgName("sent")]
    [JsonStringEnumMemberName("sent")]
    Sent,

    [PgName("delivered")]
    [JsonStringEnumMemberName("delivered")]
    Delivered,

    [PgName("read")]
    [JsonStringEnumMemberName("read")]
    Read,

    [PgName("failed")]
    [JsonStringEnumMemberName("failed")]
    Failed,
}
