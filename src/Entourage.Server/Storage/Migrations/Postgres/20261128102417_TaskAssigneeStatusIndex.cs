using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Entourage.Server.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class TaskAssigneeStatusIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_tasks_assignee_id",
                table: "tasks");

            migrationBuilder.CreateIndex(
                name: "ix_tasks_assignee_id_status_started_at",
                table: "tasks",
                columns: new[] { "assignee_id", "status", "started_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_tasks_assignee_id_status_started_at",
                table: "tasks");

            migrationBuilder.CreateIndex(
                name: "ix_tasks_assignee_id",
                table: "tasks",
                column: "assignee_id");
        }
    }
}
