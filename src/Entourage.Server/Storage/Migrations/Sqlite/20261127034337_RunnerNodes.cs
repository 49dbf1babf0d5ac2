using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Entourage.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class RunnerNodes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "repo_url",
                table: "teams",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "stopped_at",
                table: "nodes",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "repo_url",
                table: "teams");

            migrationBuilder.DropColumn(
                name: "stopped_at",
                table: "nodes");
        }
    }
}
