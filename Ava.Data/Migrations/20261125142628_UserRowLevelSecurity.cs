using Ava.Data.Users;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ava.Data.Migrations
{
    /// <summary>
    /// Row-level security on every table that holds a user's data, bound to <see cref="UserDataAccess.Role"/>, and
    /// the messages API's own login, a member of that role (see <see cref="UserDataAccess"/>). The webhook got a login
    /// of its own later, with policies of its own (migration WebhookLogin); the tables' owner runs only migrations.
    /// </summary>
    public partial class UserRowLevelSecurity : Migration
    {
        private const string CurrentUser = UserDataAccess.CurrentUserIdSql;
        private const string Role = UserDataAccess.Role;
        private const string Login = UserDataAccess.LoginRole;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Roles belong to the cluster, not the database: create them only where they are missing. The login
            // gets its password from the migration service.
            migrationBuilder.Sql($"""
                DO $$
                BEGIN
                    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{Role}') THEN
                        CREATE ROLE {Role} NOLOGIN NOBYPASSRLS;
                    END IF;
                    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{Login}') THEN
                        CREATE ROLE {Login} LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS IN ROLE {Role};
                    END IF;
                END
                $$;
                """);
            migrationBuilder.Sql($"GRANT {Role} TO CURRENT_USER;");
            migrationBuilder.Sql($"GRANT USAGE ON SCHEMA public TO {Role};");
            migrationBuilder.Sql($"GRANT SELECT ON messages, outbound_replies, delivery_status_events TO {Role};");
            migrationBuilder.Sql($"GRANT SELECT, INSERT, UPDATE ON user_preferences TO {Role};");

            migrationBuilder.Sql("ALTER TABLE messages ENABLE ROW LEVEL SECURITY;");
            migrationBuilder.Sql($"CREATE POLICY messages_own_rows ON messages TO {Role} USING (user_id = {CurrentUser});");

            migrationBuilder.Sql("ALTER TABLE user_preferences ENABLE ROW LEVEL SECURITY;");
            migrationBuilder.Sql($"""
                CREATE POLICY user_preferences_own_row ON user_preferences TO {Role}
                USING (user_id = {CurrentUser}) WITH CHECK (user_id = {CurrentUser});
                """);

            migrationBuilder.Sql("ALTER TABLE outbound_replies ENABLE ROW LEVEL SECURITY;");
            migrationBuilder.Sql($"CREATE POLICY outbound_replies_own_rows ON outbound_replies TO {Role} USING (user_id = {CurrentUser});");

            // Statuses carry no user id: they are visible through the caller's own replies (themselves under RLS).
            migrationBuilder.Sql("ALTER TABLE delivery_status_events ENABLE ROW LEVEL SECURITY;");
            migrationBuilder.Sql($"""
                CREATE POLICY delivery_status_events_of_own_replies ON delivery_status_events TO {Role}
                USING (EXISTS (SELECT 1 FROM outbound_replies r WHERE r.wamid = delivery_status_events.wamid));
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP POLICY IF EXISTS delivery_status_events_of_own_replies ON delivery_status_events;");
            migrationBuilder.Sql("ALTER TABLE delivery_status_events DISABLE ROW LEVEL SECURITY;");
            migrationBuilder.Sql("DROP POLICY IF EXISTS outbound_replies_own_rows ON outbound_replies;");
            migrationBuilder.Sql("ALTER TABLE outbound_replies DISABLE ROW LEVEL SECURITY;");
            migrationBuilder.Sql("DROP POLICY IF EXISTS user_preferences_own_row ON user_preferences;");
            migrationBuilder.Sql("ALTER TABLE user_preferences DISABLE ROW LEVEL SECURITY;");
            migrationBuilder.Sql("DROP POLICY IF EXISTS messages_own_rows ON messages;");
            migrationBuilder.Sql("ALTER TABLE messages DISABLE ROW LEVEL SECURITY;");
            migrationBuilder.Sql($"REVOKE ALL ON messages, outbound_replies, delivery_status_events, user_preferences FROM {Role};");
            migrationBuilder.Sql($"REVOKE USAGE ON SCHEMA public FROM {Role};");
            migrationBuilder.Sql($"REVOKE {Role} FROM {Login};");
        }
    }
}
