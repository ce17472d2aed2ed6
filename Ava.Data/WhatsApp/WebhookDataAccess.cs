namespace Ava.Data.WhatsApp;

/// <summary>
/// The webhook's own database login: DML on the tables it works through, nothing else — no DDL, not the owner,
/// not a superuser. It writes for every user by design, so the row-level-security policies admit it to all rows
/// (explicit policies rather than BYPASSRLS, which a managed Postgres may not let a migration grant). Its password
/// is set by the migration service.
/// </summary>
public static class WebhookDataAccess
{
    public const string LoginRole = DatabaseLogins.Webhook;
}
