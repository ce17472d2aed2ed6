using System.Text.Json.Serialization;
using NpgsqlTypes;

namespace Ava.Data.WhatsApp;

/// <summary>What processing made of a delivery. Stored as the Postgres enum <c>inbound_outcome</c>.</summary>
public enum InboundOutcome
{
    /// <summary>Every message and status in it was handled.</summary>
    [PgName("processed")]
    [JsonStringEnumMemberName("processed")]
    Processed,

    /// <summary>Signed correctly but not a WhatsApp notification (not JSON, or another shape): kept for inspection.</summary>
    [PgName("unprocessable")]
    [JsonStringEnumMemberName("unprocessable")]
    Unprocessable,

    /// <summary>Processing kept failing; kept with its last error for a person to look at.</summary>
    [PgName("failed")]
    [JsonStringEnumMemberName("failed")]
    Failed,
}
