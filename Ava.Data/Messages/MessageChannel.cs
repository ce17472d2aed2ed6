using NpgsqlTypes;

namespace Ava.Data.Messages;

/// <summary>Where a message was exchanged. Stored as the Postgres enum <c>message_channel</c>.</summary>
public enum MessageChannel
{
    [PgName("app")]
    App,

    [PgName("whatsapp")]
    WhatsApp,
}
