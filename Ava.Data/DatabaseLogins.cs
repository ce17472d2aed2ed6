namespace Ava.Data;

/// <summary>
/// The login roles the migrations create, one per service, and the AppHost connects each service as. The AppHost
/// compiles this file too, so that it knows the names without taking EF Core and Npgsql along.
/// </summary>
internal static class DatabaseLogins
{
    /// <summary>The webhook's login: DML on the tables it works through, admitted to every row.</summary>
    public const string Webhook = "ava_webhook";

    /// <summary>The messages API's login: a member of the role that row-level security binds to one user.</summary>
    public const string MessagesApi = "ava_messages_api";
}
