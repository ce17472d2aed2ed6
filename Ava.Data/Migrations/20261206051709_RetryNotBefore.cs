using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ava.Data.Migrations
{
    /// <summary>
    /// A reply Meta asked to wait (Retry-After) keeps that time even when its number recovers and the replies waiting
    /// out a backoff are sent at once.
    /// </summary>
    public partial class RetryNotBefore : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "retry_not_before",
                table: "outbound_replies",
                type: "timestamp with time zone",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "retry_not_before",
                table: "outbound_replies");
        }
    }
}
