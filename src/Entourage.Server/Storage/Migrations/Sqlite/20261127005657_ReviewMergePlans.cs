using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Entourage.Server.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ReviewMergePlans : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "plan_id",
                table: "tasks",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "body",
                table: "reviews",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "base_sha",
                table: "merge_queue",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "candidate_sha",
                table: "merge_queue",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "phase",
                table: "merge_queue",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "plans",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    team_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    parent_task_id = table.Column<long>(type: "INTEGER", nullable: true),
                    proposed_by_agent_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    state = table.Column<string>(type: "TEXT", nullable: false),
                    feedback = table.Column<string>(type: "TEXT", nullable: true),
                    decided_by = table.Column<string>(type: "TEXT", nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    decided_at = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_plans", x => x.id);
                    table.ForeignKey(
                        name: "fk_plans_teams_team_id",
                        column: x => x.team_id,
                        principalTable: "teams",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_tasks_plan_id",
                table: "tasks",
                column: "plan_id");

            migrationBuilder.CreateIndex(
                name: "ix_plans_team_id_state",
                table: "plans",
                columns: new[] { "team_id", "state" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "plans");

            migrationBuilder.DropIndex(
                name: "ix_tasks_plan_id",
                table: "tasks");

            migrationBuilder.DropColumn(
                name: "plan_id",
                table: "tasks");

            migrationBuilder.DropColumn(
                name: "body",
                table: "reviews");

            migrationBuilder.DropColumn(
                name: "base_sha",
                table: "merge_queue");

            migrationBuilder.DropColumn(
                name: "candidate_sha",
                table: "merge_queue");

            migrationBuilder.DropColumn(
                name: "phase",
                table: "merge_queue");
        }
    }
}
