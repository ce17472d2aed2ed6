namespace Ava.Data.Users;

/// <summary>
/// Row-level security for data read on a user's behalf. Work done for a signed-in user runs in a transaction under
/// <see cref="Role"/>, with the user's id in the <see cref="UserIdSetting"/> setting; the policies on the user
/// tables admit only rows of that user, and nothing when no user id is set. The messages API logs in as
/// <see cref="LoginRole"/>, a member of that role. The webhook, which writes for every user, logs in as a login of its
/// own with policies of its own (see <see cref="WhatsApp.WebhookDataAccess"/>): neither is the tables' owner.
/// </summary>
public static class UserDataAccess
{
    /// <summary>The database role the policies apply to (NOLOGIN, no BYPASSRLS).</summary>
    public const string Role = "ava_app_user";

    /// <summary>
    /// The login the messages API connects as: a member of <see cref="Role"/>, neither owner nor superuser, so that
    /// the API process itself cannot step around the policies. Its password is set by the migration service.
    /// </summary>
    public const string LoginRole = DatabaseLogins.MessagesApi;

    /// <summary>The transaction-local setting that carries the signed-in user's id.</summary>
    public const string UserIdSetting = "app.user_id";

    /// <summary>The SQL that reads the current user's id, null when none is set.</summary>
    public const string CurrentUserIdSql = "nullif(current_setting('app.user_id', true), '')::uuid";
}
