using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Entourage.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class TaskWaitTeamIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_task_waits_team_id_completed_at",
                table: "task_waits",
                columns: new[] { "team_id", "completed_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_task_waits_team_id_completed_at",
                table: "task_waits");
        }
    }
}
