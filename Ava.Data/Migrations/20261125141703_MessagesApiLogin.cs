using Ava.Data.Users;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ava.Data.Migrations
{
    /// <summary>
    /// The messages API's own login (see <see cref="UserDataAccess.LoginRole"/>): a member of the row-level-security
    /// role, with no password until the migration service sets one.
    /// </summary>
    public partial class MessagesApiLogin : Migration
    {
        private const string Login = UserDataAccess.LoginRole;
        private const string Role = UserDataAccess.Role;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql($"""
                DO $$
                BEGIN
                    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{Login}') THEN
                        CREATE ROLE {Login} LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS IN ROLE {Role};
                    END IF;
                END
                $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql($"REVOKE {Role} FROM {Login};");
        }
    }
}
