using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Entourage.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DispatchTurnTokensAndNotify : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "token_hash",
                table: "turns",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_turns_token_hash",
                table: "turns",
                column: "token_hash");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_turns_token_hash",
                table: "turns");

            migrationBuilder.DropColumn(
                name: "token_hash",
                table: "turns");
        }
    }
}
