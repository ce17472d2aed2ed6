using Ava.Data.WhatsApp;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ava.Data.Migrations
{
    /// <summary>
    /// The webhook's retention deletes old replies (phones and texts), delivery statuses and ended turns, as it does
    /// old deliveries.
    /// </summary>
    public partial class WebhookRetentionGrants : Migration
    {
        private const string Login = WebhookDataAccess.LoginRole;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql($"GRANT DELETE ON outbound_replies, delivery_status_events TO {Login};");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql($"REVOKE DELETE ON outbound_replies, delivery_status_events FROM {Login};");
        }
    }
}
