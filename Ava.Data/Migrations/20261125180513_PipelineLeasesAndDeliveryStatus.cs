using System;
using Ava.Data.WhatsApp;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ava.Data.Migrations
{
    /// <summary>
    /// What batched processing and sending need: claim tokens that fence a worker whose lease was taken over, the
    /// end of each reply's 24-hour window (retries are budgeted by time, not by count), the delivery status kept on
    /// the reply's history row, digits-only phones, cheap (BRIN) indexes for retention, and no index the pipeline does
    /// not read (each costs a write per row on the hot path).
    /// </summary>
    public partial class PipelineLeasesAndDeliveryStatus : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_outbound_replies_message_id",
                table: "outbound_replies");

            migrationBuilder.DropIndex(
                name: "ix_inbound_messages_from_phone_sent_at",
                table: "inbound_messages");

            migrationBuilder.AddColumn<Guid>(
                name: "claim_token",
                table: "outbound_replies",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "expires_at",
                table: "outbound_replies",
                type: "timestamp with time zone",
                nullable: false,
                defaultValueSql: "now() + interval '24 hours'");

            migrationBuilder.AddColumn<DeliveryStatus>(
                name: "delivery_status",
                table: "messages",
                type: "delivery_status",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "claim_token",
                table: "inbound_deliveries",
                type: "uuid",
                nullable: true);

            // Existing rows: a reply's window is counted from the message it answers; history shows what is known.
            migrationBuilder.Sql("""
                UPDATE outbound_replies r SET expires_at = coalesce(m.sent_at, r.created_at) + interval '24 hours'
                FROM inbound_messages m WHERE m.wamid = r.inbound_wamid;
                """);
            migrationBuilder.Sql("""
                UPDATE messages m
                SET delivery_status = greatest(r.status, (SELECT max(e.status) FROM delivery_status_events e WHERE e.wamid = r.wamid))
                FROM outbound_replies r WHERE r.message_id = m.id;
                """);
            migrationBuilder.Sql(@"UPDATE user_preferences SET whatsapp_phone = regexp_replace(whatsapp_phone, '[^0-9]', '', 'g') WHERE whatsapp_phone !~ '^[0-9]+$';");

            // The inbox and outbox are queues: vacuumed early so that their pending indexes stay short, with room on
            // each page for the lease updates to stay on the page (no index writes). A reply's line is updated once.
            migrationBuilder.Sql("ALTER TABLE inbound_deliveries SET (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.05);");
            migrationBuilder.Sql("ALTER TABLE outbound_replies SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.05);");
            migrationBuilder.Sql("ALTER TABLE messages SET (fillfactor = 90);");

            migrationBuilder.AddCheckConstraint(
                name: "ck_user_preferences_whatsapp_phone_digits",
                table: "user_preferences",
                sql: "whatsapp_phone ~ '^[0-9]+$'");

            migrationBuilder.CreateIndex(
                name: "ix_inbound_messages_processed_at",
                table: "inbound_messages",
                column: "processed_at")
                .Annotation("Npgsql:IndexMethod", "brin");

            migrationBuilder.CreateIndex(
                name: "ix_inbound_deliveries_received_at",
                table: "inbound_deliveries",
                column: "received_at")
                .Annotation("Npgsql:IndexMethod", "brin");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("ALTER TABLE inbound_deliveries RESET (fillfactor, autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor);");
            migrationBuilder.Sql("ALTER TABLE outbound_replies RESET (fillfactor, autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor);");
            migrationBuilder.Sql("ALTER TABLE messages RESET (fillfactor);");


            migrationBuilder.DropCheckConstraint(
                name: "ck_user_preferences_whatsapp_phone_digits",
                table: "user_preferences");

            migrationBuilder.DropIndex(
                name: "ix_inbound_messages_processed_at",
                table: "inbound_messages");

            migrationBuilder.DropIndex(
                name: "ix_inbound_deliveries_received_at",
                table: "inbound_deliveries");

            migrationBuilder.DropColumn(
                name: "claim_token",
                table: "outbound_replies");

            migrationBuilder.DropColumn(
                name: "expires_at",
                table: "outbound_replies");

            migrationBuilder.DropColumn(
                name: "delivery_status",
                table: "messages");

            migrationBuilder.DropColumn(
                name: "claim_token",
                table: "inbound_deliveries");

            migrationBuilder.CreateIndex(
                name: "ix_outbound_replies_message_id",
                table: "outbound_replies",
                column: "message_id",
                filter: "message_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_inbound_messages_from_phone_sent_at",
                table: "inbound_messages",
                columns: new[] { "from_phone", "sent_at" });
        }
    }
}
