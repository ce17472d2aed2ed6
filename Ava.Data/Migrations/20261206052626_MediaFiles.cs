using System;
using Ava.Data.Media;
using Ava.Data.Users;
using Ava.Data.WhatsApp;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Ava.Data.Migrations
{
    /// <summary>
    /// Media users send is kept: its metadata and download queue in <c>media_files</c>, its bytes in
    /// <c>media_chunks</c> — both readable by their owner only, like the history they belong to.
    /// </summary>
    public partial class MediaFiles : Migration
    {
        private const string CurrentUser = UserDataAccess.CurrentUserIdSql;
        private const string UserRole = UserDataAccess.Role;
        private const string Webhook = WebhookDataAccess.LoginRole;
        private static readonly string[] s_tables = ["media_files", "media_chunks"];

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterDatabase()
                .Annotation("Npgsql:Enum:delivery_status", "pending,sent,delivered,read,failed")
                .Annotation("Npgsql:Enum:inbound_outcome", "failed,processed,unprocessable")
                .Annotation("Npgsql:Enum:media_status", "failed,pending,stored,too_large")
                .Annotation("Npgsql:Enum:message_channel", "app,whatsapp")
                .Annotation("Npgsql:Enum:message_role", "assistant,user")
                .Annotation("Npgsql:Enum:turn_status", "answered,failed,pending")
                .OldAnnotation("Npgsql:Enum:delivery_status", "pending,sent,delivered,read,failed")
                .OldAnnotation("Npgsql:Enum:inbound_outcome", "failed,processed,unprocessable")
                .OldAnnotation("Npgsql:Enum:message_channel", "app,whatsapp")
                .OldAnnotation("Npgsql:Enum:message_role", "assistant,user")
                .OldAnnotation("Npgsql:Enum:turn_status", "answered,failed,pending");

            migrationBuilder.CreateTable(
                name: "media_files",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    message_id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    inbound_wamid = table.Column<string>(type: "text", nullable: false),
                    meta_media_id = table.Column<string>(type: "text", nullable: false),
                    type = table.Column<string>(type: "text", nullable: false),
                    mime_type = table.Column<string>(type: "text", nullable: true),
                    sha256 = table.Column<string>(type: "text", nullable: true),
                    file_name = table.Column<string>(type: "text", nullable: true),
                    caption = table.Column<string>(type: "text", nullable: true),
                    voice = table.Column<bool>(type: "boolean", nullable: false, defaultValue: false),
                    size = table.Column<long>(type: "bigint", nullable: true),
                    chunk_size = table.Column<int>(type: "integer", nullable: true),
                    status = table.Column<MediaStatus>(type: "media_status", nullable: false, defaultValue: MediaStatus.Pending),
                    attempts = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    next_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()"),
                    locked_until = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    claim_token = table.Column<Guid>(type: "uuid", nullable: true),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    error = table.Column<string>(type: "text", nullable: true),
                    trace_parent = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()"),
                    stored_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_media_files", x => x.id);
                    table.ForeignKey(
                        name: "fk_media_files_message",
                        column: x => x.message_id,
                        principalTable: "messages",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "media_chunks",
                columns: table => new
                {
                    media_id = table.Column<long>(type: "bigint", nullable: false),
                    seq = table.Column<int>(type: "integer", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    data = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_media_chunks", x => new { x.media_id, x.seq });
                    table.ForeignKey(
                        name: "fk_media_chunks_media",
                        column: x => x.media_id,
                        principalTable: "media_files",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_media_files_pending",
                table: "media_files",
                columns: new[] { "next_attempt_at", "id" },
                filter: "status = 'pending'");

            migrationBuilder.CreateIndex(
                name: "ux_media_files_message",
                table: "media_files",
                column: "message_id",
                unique: true);

            foreach (var table in s_tables)
            {
                // The webhook records and downloads every user's media; a user reads their own, nobody else's.
                migrationBuilder.Sql($"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {Webhook};");
                migrationBuilder.Sql($"GRANT SELECT ON {table} TO {UserRole};");
                migrationBuilder.Sql($"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;");
                migrationBuilder.Sql($"CREATE POLICY {table}_webhook_all_rows ON {table} TO {Webhook} USING (true) WITH CHECK (true);");
                migrationBuilder.Sql($"CREATE POLICY {table}_own_rows ON {table} TO {UserRole} USING (user_id = {CurrentUser});");
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var table in s_tables)
            {
                migrationBuilder.Sql($"DROP POLICY IF EXISTS {table}_own_rows ON {table};");
                migrationBuilder.Sql($"DROP POLICY IF EXISTS {table}_webhook_all_rows ON {table};");
                migrationBuilder.Sql($"REVOKE ALL ON {table} FROM {Webhook}, {UserRole};");
            }

            migrationBuilder.DropTable(
                name: "media_chunks");

            migrationBuilder.DropTable(
                name: "media_files");

            migrationBuilder.AlterDatabase()
                .Annotation("Npgsql:Enum:delivery_status", "pending,sent,delivered,read,failed")
                .Annotation("Npgsql:Enum:inbound_outcome", "failed,processed,unprocessable")
                .Annotation("Npgsql:Enum:message_channel", "app,whatsapp")
                .Annotation("Npgsql:Enum:message_role", "assistant,user")
                .Annotation("Npgsql:Enum:turn_status", "answered,failed,pending")
                .OldAnnotation("Npgsql:Enum:delivery_status", "pending,sent,delivered,read,failed")
                .OldAnnotation("Npgsql:Enum:inbound_outcome", "failed,processed,unprocessable")
                .OldAnnotation("Npgsql:Enum:media_status", "failed,pending,stored,too_large")
                .OldAnnotation("Npgsql:Enum:message_channel", "app,whatsapp")
                .OldAnnotation("Npgsql:Enum:message_role", "assistant,user")
                .OldAnnotation("Npgsql:Enum:turn_status", "answered,failed,pending");
        }
    }
}
