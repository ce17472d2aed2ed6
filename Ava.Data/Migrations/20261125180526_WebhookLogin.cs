using Ava.Data.WhatsApp;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ava.Data.Migrations
{
    /// <summary>The webhook's least-privileged login (see <see cref="WebhookDataAccess"/>).</summary>
    public partial class WebhookLogin : Migration
    {
        private const string Login = WebhookDataAccess.LoginRole;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql($"""
                DO $$
                BEGIN
                    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{Login}') THEN
                        CREATE ROLE {Login} LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
                    END IF;
                END
                $$;
                """);
            migrationBuilder.Sql($"GRANT USAGE ON SCHEMA public TO {Login};");

            // Retention deletes old deliveries and dedup records; everything else is kept.
            migrationBuilder.Sql($"GRANT SELECT, INSERT, UPDATE, DELETE ON inbound_deliveries, inbound_messages TO {Login};");
            migrationBuilder.Sql($"GRANT SELECT, INSERT, UPDATE ON messages, outbound_replies, user_preferences TO {Login};");
            migrationBuilder.Sql($"GRANT SELECT, INSERT ON delivery_status_events TO {Login};");
            migrationBuilder.Sql($"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {Login};");

            foreach (var table in new[] { "messages", "user_preferences", "outbound_replies", "delivery_status_events" })
            {
                migrationBuilder.Sql($"CREATE POLICY {table}_webhook_all_rows ON {table} TO {Login} USING (true) WITH CHECK (true);");
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var table in new[] { "messages", "user_preferences", "outbound_replies", "delivery_status_events" })
            {
                migrationBuilder.Sql($"DROP POLICY IF EXISTS {table}_webhook_all_rows ON {table};");
            }

            migrationBuilder.Sql($"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {Login};");
            migrationBuilder.Sql($"REVOKE USAGE ON ALL SEQUENCES IN SCHEMA public FROM {Login};");
            migrationBuilder.Sql($"REVOKE USAGE ON SCHEMA public FROM {Login};");
        }
    }
}
