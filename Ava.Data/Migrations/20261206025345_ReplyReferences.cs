using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ava.Data.Migrations
{
    /// <summary>
    /// Each reply's own random key, sent with it as callback data, so that a status proves that very reply was
    /// accepted — not whichever reply has the same id after a restore or in another deployment.
    /// </summary>
    public partial class ReplyReferences : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "reference",
                table: "outbound_replies",
                type: "uuid",
                nullable: false,
                defaultValueSql: "gen_random_uuid()");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "reference",
                table: "outbound_replies");
        }
    }
}
