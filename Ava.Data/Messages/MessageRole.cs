using System.Text.Json.Serialization;
using NpgsqlTypes;

namespace Ava.Data.Messages;

/// <summary>Who wrote a message. Stored as the Postgres enum <c>message_role</c>.</summary>
public enum MessageRole
{
    [PgName("user")]
    [JsonStringEnumMemberName("user")]
    User,

    [PgName("assistant")]
    [JsonStringEnumMemberName("assistant")]
    Assistant,
}
