using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ava.Data.Migrations
{
    /// <summary>
    /// A user's turns written in the same second (Meta's timestamps count whole seconds) go in the order their
    /// deliveries came: each turn records its delivery, and the index that finds a user's earlier turn orders by it.
    /// </summary>
    public partial class TurnArrivalOrder : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_conversation_turns_pending_by_user",
                table: "conversation_turns");

            migrationBuilder.AddColumn<long>(
                name: "delivery_id",
                table: "conversation_turns",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateIndex(
                name: "ix_conversation_turns_pending_by_user",
                table: "conversation_turns",
                columns: new[] { "user_id", "written_at", "delivery_id", "id" },
                filter: "status = 'pending'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_conversation_turns_pending_by_user",
                table: "conversation_turns");

            migrationBuilder.DropColumn(
                name: "delivery_id",
                table: "conversation_turns");

            migrationBuilder.CreateIndex(
                name: "ix_conversation_turns_pending_by_user",
                table: "conversation_turns",
                columns: new[] { "user_id", "written_at", "id" },
                filter: "status = 'pending'");
        }
    }
}
