using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ava.Data.Migrations
{
    /// <summary>
    /// Users who adopted a WhatsApp username: the business-scoped user id (and username) of the WhatsApp account linked
    /// to an Ava user, unique like the phone; the sender's parent id and username on each inbound message; replies
    /// addressed to a user id when there is no phone; and the user id a status names.
    /// </summary>
    public partial class UsernamesAndBusinessScopedUserIds : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "whatsapp_user_id",
                table: "user_preferences",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "whatsapp_username",
                table: "user_preferences",
                type: "text",
                nullable: true);

            migrationBuilder.AlterColumn<string>(
                name: "to_phone",
                table: "outbound_replies",
                type: "text",
                nullable: true,
                oldClrType: typeof(string),
                oldType: "text");

            migrationBuilder.AddColumn<string>(
                name: "to_user_id",
                table: "outbound_replies",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "from_parent_user_id",
                table: "inbound_messages",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "from_username",
                table: "inbound_messages",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "recipient_user_id",
                table: "delivery_status_events",
                type: "text",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ux_user_preferences_whatsapp_user_id",
                table: "user_preferences",
                column: "whatsapp_user_id",
                unique: true,
                filter: "whatsapp_user_id IS NOT NULL");

            migrationBuilder.AddCheckConstraint(
                name: "ck_user_preferences_whatsapp_user_id_format",
                table: "user_preferences",
                sql: "whatsapp_user_id ~ '^[A-Za-z]{2}\\.(ENT\\.)?[A-Za-z0-9]{1,128}$'");

            migrationBuilder.AddCheckConstraint(
                name: "ck_outbound_replies_recipient",
                table: "outbound_replies",
                sql: "to_phone IS NOT NULL OR to_user_id IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ux_user_preferences_whatsapp_user_id",
                table: "user_preferences");

            migrationBuilder.DropCheckConstraint(
                name: "ck_user_preferences_whatsapp_user_id_format",
                table: "user_preferences");

            migrationBuilder.DropCheckConstraint(
                name: "ck_outbound_replies_recipient",
                table: "outbound_replies");

            migrationBuilder.DropColumn(
                name: "whatsapp_user_id",
                table: "user_preferences");

            migrationBuilder.DropColumn(
                name: "whatsapp_username",
                table: "user_preferences");

            migrationBuilder.DropColumn(
                name: "to_user_id",
                table: "outbound_replies");

            migrationBuilder.DropColumn(
                name: "from_parent_user_id",
                table: "inbound_messages");

            migrationBuilder.DropColumn(
                name: "from_username",
                table: "inbound_messages");

            migrationBuilder.DropColumn(
                name: "recipient_user_id",
                table: "delivery_status_events");

            migrationBuilder.AlterColumn<string>(
                name: "to_phone",
                table: "outbound_replies",
                type: "text",
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "text",
                oldNullable: true);
        }
    }
}
