using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ava.Data.Migrations
{
    /// <summary>
    /// Replies whose last attempt may have reached Meta wait for their status before they go again, instead of being
    /// sent early when their number recovers.
    /// </summary>
    public partial class SendsInDoubt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "in_doubt",
                table: "outbound_replies",
                type: "boolean",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "in_doubt",
                table: "outbound_replies");
        }
    }
}
