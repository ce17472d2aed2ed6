using System.Text.Json.Serialization;
using NpgsqlTypes;

namespace Ava.Data.Messages;

/// <summary>Where a message was exchanged. Stored as the Postgres enum <c>message_channel</c>.</summary>
public enum MessageChannel
{
    [PgName("app")]
    [JsonStringEnumMemberName("app")]
    App,

    [PgName("whatsapp")]
    [JsonStringEnumMemberName("whatsapp")]
    WhatsApp,
}
