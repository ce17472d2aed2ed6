using System;
using Ava.Data.WhatsApp;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Ava.Data.Migrations
{
    /// <summary>
    /// The compose stage: a linked user's messages wait in <c>conversation_turns</c> for the responder, one turn per
    /// user at a time; a turn's replies are outbox rows keyed by (turn, index), so that an answer is written once.
    /// </summary>
    public partial class ConversationTurns : Migration
    {
        private const string Login = WebhookDataAccess.LoginRole;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterDatabase()
                .Annotation("Npgsql:Enum:delivery_status", "pending,sent,delivered,read,failed")
                .Annotation("Npgsql:Enum:inbound_outcome", "failed,processed,unprocessable")
                .Annotation("Npgsql:Enum:message_channel", "app,whatsapp")
                .Annotation("Npgsql:Enum:message_role", "assistant,user")
                .Annotation("Npgsql:Enum:turn_status", "answered,failed,pending")
                .OldAnnotation("Npgsql:Enum:delivery_status", "pending,sent,delivered,read,failed")
                .OldAnnotation("Npgsql:Enum:inbound_outcome", "failed,processed,unprocessable")
                .OldAnnotation("Npgsql:Enum:message_channel", "app,whatsapp")
                .OldAnnotation("Npgsql:Enum:message_role", "assistant,user");

            migrationBuilder.AlterColumn<string>(
                name: "inbound_wamid",
                table: "outbound_replies",
                type: "text",
                nullable: true,
                oldClrType: typeof(string),
                oldType: "text");

            migrationBuilder.AddColumn<long>(
                name: "turn_id",
                table: "outbound_replies",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "turn_reply_index",
                table: "outbound_replies",
                type: "integer",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "conversation_turns",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    inbound_wamid = table.Column<string>(type: "text", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    message_id = table.Column<Guid>(type: "uuid", nullable: false),
                    phone_number_id = table.Column<string>(type: "text", nullable: false),
                    to_phone = table.Column<string>(type: "text", nullable: true),
                    to_user_id = table.Column<string>(type: "text", nullable: true),
                    message_type = table.Column<string>(type: "text", nullable: false),
                    content = table.Column<string>(type: "text", nullable: false),
                    written_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    status = table.Column<ConversationTurnStatus>(type: "turn_status", nullable: false, defaultValue: ConversationTurnStatus.Pending),
                    attempts = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    next_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()"),
                    locked_until = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    claim_token = table.Column<Guid>(type: "uuid", nullable: true),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    error = table.Column<string>(type: "text", nullable: true),
                    trace_parent = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()"),
                    answered_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_conversation_turns", x => x.id);
                    table.CheckConstraint("ck_conversation_turns_recipient", "to_phone IS NOT NULL OR to_user_id IS NOT NULL");
                });

            migrationBuilder.CreateIndex(
                name: "ix_outbound_replies_pending_turn_replies",
                table: "outbound_replies",
                column: "user_id",
                filter: "status = 'pending' AND turn_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ux_outbound_replies_turn_reply",
                table: "outbound_replies",
                columns: new[] { "turn_id", "turn_reply_index" },
                unique: true);

            migrationBuilder.AddCheckConstraint(
                name: "ck_outbound_replies_answers",
                table: "outbound_replies",
                sql: "(inbound_wamid IS NULL) <> (turn_id IS NULL) AND (turn_id IS NULL) = (turn_reply_index IS NULL)");

            migrationBuilder.CreateIndex(
                name: "ix_conversation_turns_pending",
                table: "conversation_turns",
                columns: new[] { "next_attempt_at", "id" },
                filter: "status = 'pending'");

            migrationBuilder.CreateIndex(
                name: "ix_conversation_turns_pending_by_user",
                table: "conversation_turns",
                columns: new[] { "user_id", "written_at", "id" },
                filter: "status = 'pending'");

            migrationBuilder.CreateIndex(
                name: "ux_conversation_turns_inbound_wamid",
                table: "conversation_turns",
                column: "inbound_wamid",
                unique: true);

            // Only the webhook composes; the messages API reads history, never the queue.
            migrationBuilder.Sql($"GRANT SELECT, INSERT, UPDATE, DELETE ON conversation_turns TO {Login};");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql($"REVOKE ALL ON conversation_turns FROM {Login};");

            migrationBuilder.DropTable(
                name: "conversation_turns");

            migrationBuilder.DropIndex(
                name: "ix_outbound_replies_pending_turn_replies",
                table: "outbound_replies");

            migrationBuilder.DropIndex(
                name: "ux_outbound_replies_turn_reply",
                table: "outbound_replies");

            migrationBuilder.DropCheckConstraint(
                name: "ck_outbound_replies_answers",
                table: "outbound_replies");

            migrationBuilder.DropColumn(
                name: "turn_id",
                table: "outbound_replies");

            migrationBuilder.DropColumn(
                name: "turn_reply_index",
                table: "outbound_replies");

            migrationBuilder.AlterDatabase()
                .Annotation("Npgsql:Enum:delivery_status", "pending,sent,delivered,read,failed")
                .Annotation("Npgsql:Enum:inbound_outcome", "failed,processed,unprocessable")
                .Annotation("Npgsql:Enum:message_channel", "app,whatsapp")
                .Annotation("Npgsql:Enum:message_role", "assistant,user")
                .OldAnnotation("Npgsql:Enum:delivery_status", "pending,sent,delivered,read,failed")
                .OldAnnotation("Npgsql:Enum:inbound_outcome", "failed,processed,unprocessable")
                .OldAnnotation("Npgsql:Enum:message_channel", "app,whatsapp")
                .OldAnnotation("Npgsql:Enum:message_role", "assistant,user")
                .OldAnnotation("Npgsql:Enum:turn_status", "answered,failed,pending");

            migrationBuilder.AlterColumn<string>(
                name: "inbound_wamid",
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
